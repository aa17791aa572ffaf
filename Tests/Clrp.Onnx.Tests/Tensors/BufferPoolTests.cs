using Clrp.Onnx.Tensors;

namespace Clrp.Onnx.Tests.Tensors;

[TestClass]
public sealed class BufferPoolTests
{
    private const int Large = BufferPool.MinPooledLength;

    [TestMethod]
    public void ReturnedBufferIsRentedAgainForTheSameLengthAndCleared()
    {
        var pool = new BufferPool(1L << 30);
        Tensor first = pool.Rent([2, Large / 2]);
        first.Data.AsSpan().Fill(7f);
        pool.Return(first);
        Assert.AreEqual((long)Large * sizeof(float), pool.FreeBytes);

        Tensor again = pool.Rent([Large], clear: true);
        Assert.AreSame(first.Data, again.Data, "same length, any shape: the buffer is reused");
        Assert.IsFalse(again.Data.AsSpan().ContainsAnyExcept(0f), "clear: true zero-fills a reused buffer");
        Assert.AreEqual(0L, pool.FreeBytes);
    }

    [TestMethod]
    public void RentWithoutClearKeepsOldContentsAndOtherLengthsGetNewBuffers()
    {
        var pool = new BufferPool(1L << 30);
        Tensor t = pool.Rent([Large]);
        t.Data[3] = 5f;
        pool.Return(t);
        Assert.AreNotSame(t.Data, pool.Rent([Large + 1]).Data, "another length never gets this buffer");
        Assert.AreEqual(5f, pool.Rent([Large], clear: false).Data[3]);
    }

    [TestMethod]
    public void SmallBuffersAreLeftToTheGc()
    {
        var pool = new BufferPool(1L << 30);
        Tensor small = pool.Rent([Large - 1]);
        pool.Return(small);
        Assert.AreEqual(0L, pool.FreeBytes);
        Assert.AreNotSame(small.Data, pool.Rent([Large - 1]).Data);
    }

    [TestMethod]
    public void DoubleReturnIsIgnoredSoTwoRentersNeverShareABuffer()
    {
        var pool = new BufferPool(1L << 30);
        Tensor t = pool.Rent([Large]);
        pool.Return(t);
        pool.Return(t);
        Assert.AreEqual((long)Large * sizeof(float), pool.FreeBytes);
        Tensor a = pool.Rent([Large]);
        Tensor b = pool.Rent([Large]);
        Assert.AreNotSame(a.Data, b.Data);
    }

    [TestMethod]
    public void FreeBuffersBeyondTheCapacityAreDropped()
    {
        var pool = new BufferPool(((long)Large * sizeof(float) * 2) + 1);
        Tensor[] rented = [pool.Rent([Large]), pool.Rent([Large]), pool.Rent([Large])];
        foreach (Tensor t in rented)
        {
            pool.Return(t);
        }

        Assert.AreEqual((long)Large * sizeof(float) * 2, pool.FreeBytes, "two fit the capacity, the third is dropped");
        pool.Clear();
        Assert.AreEqual(0L, pool.FreeBytes);
    }

    [TestMethod]
    public void ConcurrentRentAndReturnNeverHandOutOneBufferTwice()
    {
        var pool = new BufferPool(1L << 30);
        var owners = new System.Collections.Concurrent.ConcurrentDictionary<float[], int>(ReferenceEqualityComparer.Instance);
        int clashes = 0;
        Parallel.For(0, 4000, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            Tensor t = pool.Rent([Large]);
            if (!owners.TryAdd(t.Data, i))
            {
                Interlocked.Increment(ref clashes);
            }

            owners.TryRemove(t.Data, out _);
            pool.Return(t);
        });
        Assert.AreEqual(0, clashes);
    }

    [TestMethod]
    public void KeepsAsManyFreeBuffersOfALengthAsWereRentedAtOnce()
    {
        var pool = new BufferPool(1L << 30);
        Tensor[] three = [pool.Rent([Large]), pool.Rent([Large]), pool.Rent([Large])];
        foreach (Tensor t in three)
        {
            pool.Return(t);
        }

        for (int i = 0; i < 5; i++)
        {
            pool.Return(new Tensor([Large])); // buffers the pool never handed out come back too (operators' own)
        }

        Assert.AreEqual((long)Large * sizeof(float) * 3, pool.FreeBytes, "three were rented at once: three are kept");
        pool.Return(new Tensor([Large + 7]));
        Assert.AreEqual((long)Large * sizeof(float) * 3, pool.FreeBytes, "a length nobody rents is not kept");
    }
}
