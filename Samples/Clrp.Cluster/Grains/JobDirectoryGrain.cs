namespace Clrp.Cluster.Grains;

/// <summary>Durable list of the jobs with work left.</summary>
[GenerateSerializer]
public sealed class JobDirectoryState
{
    [Id(0)] public List<string> Active { get; set; } = [];
}

/// <summary>The grain behind <see cref="IJobDirectoryGrain"/>.</summary>
public sealed class JobDirectoryGrain([PersistentState("directory", JobGrain.Storage)] IPersistentState<JobDirectoryState> state) : Grain, IJobDirectoryGrain
{
    public async Task Register(string jobId)
    {
        if (!state.State.Active.Contains(jobId))
        {
            state.State.Active.Add(jobId);
            await state.WriteStateAsync();
        }
    }

    public async Task Remove(string jobId)
    {
        if (state.State.Active.Remove(jobId))
        {
            await state.WriteStateAsync();
        }
    }

    public Task<string[]> Active() => Task.FromResult(state.State.Active.ToArray());
}
