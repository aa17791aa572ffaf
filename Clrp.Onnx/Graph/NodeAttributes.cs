using Clrp.Onnx.Proto;

namespace Clrp.Onnx.Graph;

/// <summary>
/// The attributes of one node, with typed getters that take the operator's default. ONNX leaves
/// defaults to the operator schema, so each propagator states the defaults it relies on.
/// </summary>
public sealed class NodeAttributes
{
    private readonly Dictionary<string, AttributeProto> _byName;

    internal NodeAttributes(IEnumerable<AttributeProto> attributes)
    {
        _byName = new Dictionary<string, AttributeProto>(StringComparer.Ordinal);
        foreach (AttributeProto a in attributes)
        {
            _byName[a.Name] = a;
        }
    }

    /// <summary>The attribute as read from the model, or null (to copy it into nodes ClrpMl adds to the runtime graph).</summary>
    internal AttributeProto? Raw(string name) => _byName.GetValueOrDefault(name);

    /// <summary>Names of the attributes present on the node.</summary>
    public IEnumerable<string> Names => _byName.Keys;

    public bool Has(string name) => _byName.ContainsKey(name);

    public long GetInt(string name, long defaultValue) =>
        _byName.TryGetValue(name, out AttributeProto? a) ? a.I : defaultValue;

    public float GetFloat(string name, float defaultValue) =>
        _byName.TryGetValue(name, out AttributeProto? a) ? a.F : defaultValue;

    public string GetString(string name, string defaultValue) =>
        _byName.TryGetValue(name, out AttributeProto? a) ? a.S.ToStringUtf8() : defaultValue;

    /// <summary>An INTS attribute, or <paramref name="defaultValue"/> (possibly null) when absent.</summary>
    public long[]? GetInts(string name, long[]? defaultValue = null) =>
        _byName.TryGetValue(name, out AttributeProto? a) ? a.Ints.ToArray() : defaultValue;

    public float[]? GetFloats(string name, float[]? defaultValue = null) =>
        _byName.TryGetValue(name, out AttributeProto? a) ? a.Floats.ToArray() : defaultValue;

    internal TensorProto? GetTensor(string name) =>
        _byName.TryGetValue(name, out AttributeProto? a) ? a.T : null;
}
