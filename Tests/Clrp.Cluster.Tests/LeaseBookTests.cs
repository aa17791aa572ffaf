using System.Net;
using Clrp.Cluster.Grains;
using Orleans.Runtime;

namespace Clrp.Cluster.Tests;

/// <summary>The job's scheduling rules (<see cref="LeaseBook"/>) without a cluster: leases, expiry, strikes, poisoning, the final step.</summary>
[TestClass]
public sealed class LeaseBookTests
{
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(10);
    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private static readonly WorkerId A = new(SiloAddress.New(IPAddress.Loopback, 11111, 1), 0);
    private static readonly WorkerId B = new(SiloAddress.New(IPAddress.Loopback, 11112, 1), 0);
    private static readonly Func<SiloAddress, bool> NoneDead = _ => false;

    private static (LeaseBook Book, JobState State) NewJob(int total, int shardSize)
    {
        var spec = new JobSpec { SettingsJson = "{}", Inputs = "in", OutDir = "out", ShardSize = shardSize, Total = total, ManifestFingerprint = "f" };
        var state = new JobState { Spec = spec, ShardDone = new bool[spec.ShardCount], Attempts = new int[spec.ShardCount] };
        return (new LeaseBook("job", state, Duration), state);
    }

    [TestMethod]
    public void Next_HandsOutShardsInOrder_ThenNothingWhileAllAreHeld()
    {
        (LeaseBook book, _) = NewJob(total: 25, shardSize: 10);
        WorkLease first = book.Next(A, T0, NoneDead)!, second = book.Next(B, T0, NoneDead)!, third = book.Next(A, T0, NoneDead)!;

        Assert.AreEqual((0, 0, 10), (first.Shard, first.Start, first.End));
        Assert.AreEqual((1, 10, 20), (second.Shard, second.Start, second.End));
        Assert.AreEqual((2, 20, 25), (third.Shard, third.Start, third.End), "the last shard is short");
        Assert.IsFalse(first.Isolate);
        Assert.IsNull(book.Next(B, T0, NoneDead), "every shard is held, and the final step waits for them");
    }

    [TestMethod]
    public void FinalStep_IsLeasedOnceAfterEveryShardCompleted_AndCompletesTheJob()
    {
        (LeaseBook book, JobState state) = NewJob(total: 20, shardSize: 10);
        WorkLease s0 = book.Next(A, T0, NoneDead)!, s1 = book.Next(B, T0, NoneDead)!;
        book.Complete(s0.Shard, A, new ShardReport { Explained = 9, Failed = 1 });
        Assert.IsNull(book.Next(A, T0, NoneDead), "shard 1 is still running");
        book.Complete(s1.Shard, B, new ShardReport { Explained = 10 });
        book.Complete(s1.Shard, B, new ShardReport { Explained = 10 });

        WorkLease final = book.Next(A, T0, NoneDead)!;
        Assert.IsTrue(final.IsFinalStep);
        Assert.AreEqual((0, 20), (final.Start, final.End));
        Assert.IsNull(book.Next(B, T0, NoneDead), "one final step at a time");
        Assert.AreEqual((19, 1), (state.Explained, state.Failed), "a second completion of a shard is not counted again");

        book.Finalized(A, new FinalReport { Ok = 19, Failed = 1, ResultsPath = "out/results.csv" });
        Assert.IsNull(book.Next(B, T0.AddHours(1), NoneDead), "a completed job has no work");
    }

    [TestMethod]
    public void ExpiredLease_IsTakenOver_InIsolation_AndTheOldHolderLearnsItOnRenewal()
    {
        (LeaseBook book, JobState state) = NewJob(total: 10, shardSize: 10);
        WorkLease first = book.Next(A, T0, NoneDead)!;
        Assert.IsTrue(book.Renew(first.Shard, A, 0, 8, T0.AddSeconds(5)), "renewed in time");
        Assert.IsNull(book.Next(B, T0.AddSeconds(14), NoneDead), "renewal extended the lease");

        WorkLease second = book.Next(B, T0.AddSeconds(16), NoneDead)!;
        Assert.AreEqual(first.Shard, second.Shard);
        Assert.IsTrue(second.Isolate, "a shard that lost a lease runs one input at a time");
        Assert.IsFalse(book.Renew(first.Shard, A, 8, 10, T0.AddSeconds(17)), "the old holder must stop");
        Assert.AreEqual(1, state.LostLeases);
        CollectionAssert.AreEquivalent(Enumerable.Range(0, 8).ToArray(), state.Strikes.Keys.ToArray(), "the inputs in flight are struck");
        Assert.IsEmpty(state.Poisoned, "one strike poisons nothing");
    }

    [TestMethod]
    public void InputInFlightWhenTwoLeasesWereLost_AloneTheSecondTime_IsPoisonedAndSkipped()
    {
        (LeaseBook book, JobState state) = NewJob(total: 10, shardSize: 10);
        book.Next(A, T0, NoneDead);
        book.Renew(0, A, 0, 8, T0);                                   // hangs in the mini-batch 0..7
        WorkLease isolated = book.Next(B, T0.AddSeconds(11), NoneDead)!;
        book.Renew(0, B, 3, 4, T0.AddSeconds(12));                    // hangs on input 3 alone
        WorkLease third = book.Next(A, T0.AddSeconds(30), NoneDead)!;

        Assert.IsTrue(isolated.Isolate);
        Assert.AreEqual(2, state.Strikes[3]);
        CollectionAssert.AreEqual(new[] { 3 }, state.Poisoned.Keys.ToArray());
        StringAssert.StartsWith(state.Poisoned[3], "poisoned: explaining it was cut short 2 times");
        Assert.IsTrue(third.Poisoned.ContainsKey(3), "the next lease skips it");
        Assert.AreEqual(3, state.Attempts[0]);
    }

    [TestMethod]
    public void LeaseOfADeadSilo_IsTakenOverBeforeItExpires()
    {
        (LeaseBook book, _) = NewJob(total: 10, shardSize: 10);
        book.Next(A, T0, NoneDead);
        book.Renew(0, A, 0, 8, T0);

        WorkLease? taken = book.Next(B, T0.AddSeconds(1), silo => silo.Equals(A.Silo));

        Assert.IsNotNull(taken);
        Assert.AreEqual(0, taken.Shard);
    }

    [TestMethod]
    public void Fail_ReleasesTheShardAtOnce_AndStrikesTheRange()
    {
        (LeaseBook book, JobState state) = NewJob(total: 10, shardSize: 10);
        book.Next(A, T0, NoneDead);
        book.Fail(0, A, 2, 3, "decoder crashed");
        book.Next(B, T0, NoneDead);
        book.Fail(0, B, 2, 3, "decoder crashed again");

        StringAssert.Contains(state.Poisoned[2], "decoder crashed again");
        Assert.AreEqual(2, state.LostLeases);
    }

    [TestMethod]
    public void JobThatNoWorkerCanRun_IsGivenUpAfterThreeFailures_WithTheReason()
    {
        (LeaseBook book, JobState state) = NewJob(total: 10, shardSize: 10);
        for (int i = 0; i < LeaseBook.JobFailuresToAbort; i++)
        {
            Assert.IsNull(state.Aborted);
            WorkLease lease = book.Next(i % 2 == 0 ? A : B, T0, NoneDead)!;
            book.FailJob(lease.Shard, i % 2 == 0 ? A : B, "the inputs changed since the job was submitted");
        }

        StringAssert.Contains(state.Aborted, "the inputs changed since the job was submitted");
        Assert.IsNull(book.Next(A, T0, NoneDead), "a given-up job hands out no work");
    }

    [TestMethod]
    public void LateCompletionByTheOldHolder_FinishesTheShard_AndStopsTheNewHolder()
    {
        (LeaseBook book, JobState state) = NewJob(total: 10, shardSize: 10);
        book.Next(A, T0, NoneDead);
        book.Next(B, T0.AddSeconds(11), NoneDead);                    // A's lease expired (no renewal), B took over

        book.Complete(0, A, new ShardReport { Explained = 10 });

        Assert.IsTrue(state.ShardDone[0]);
        Assert.IsFalse(book.Renew(0, B, 0, 8, T0.AddSeconds(12)), "the shard is done: B stops");
        Assert.IsTrue(book.Next(B, T0.AddSeconds(12), NoneDead)!.IsFinalStep);
    }
}
