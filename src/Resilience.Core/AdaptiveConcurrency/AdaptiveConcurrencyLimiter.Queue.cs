namespace Resilience.AdaptiveConcurrency;

/// <content>The short queue: calls that found the limit reached wait here, critical ones first, for at most their wait.</content>
public sealed partial class AdaptiveConcurrencyLimiter
{
    private readonly Lock _queueLock = new();
    private readonly LinkedList<Waiter> _queue = new();
    private int _queued;

    /// <summary>Gets how many calls wait for a slot.</summary>
    public int Queued => Volatile.Read(ref _queued);

    /// <summary>Waits for a slot for at most <paramref name="maxWait"/>; <see langword="false"/> when the queue is full or the wait ran out.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled while waiting.</exception>
    internal async ValueTask<WaitResult> WaitAsync(CallPriority priority, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        var waiter = new Waiter(priority);
        lock (_queueLock)
        {
            // A slot may have freed between the refusal and the lock.
            if ((_queued == 0 || priority == CallPriority.Critical) && TryTakeSlot(priority))
            {
                return WaitResult.Granted;
            }

            if (_queued >= _options.QueueLimit || maxWait <= TimeSpan.Zero)
            {
                return WaitResult.QueueFull;
            }

            Enqueue(waiter);
        }

        using (var timeout = new CancellationTokenSource(maxWait, _time))
        using (timeout.Token.UnsafeRegister(static w => ((Waiter)w!).TrySetResult(false), waiter))
        using (cancellationToken.UnsafeRegister(static w => ((Waiter)w!).TrySetResult(false), waiter))
        {
            if (await waiter.Task.ConfigureAwait(false))
            {
                return WaitResult.Granted;
            }
        }

        lock (_queueLock)
        {
            if (waiter.Node.List is not null)
            {
                _queue.Remove(waiter.Node);
                _queued--;
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        return WaitResult.Expired;
    }

    private void Enqueue(Waiter waiter)
    {
        if (waiter.Priority == CallPriority.Critical)
        {
            // Behind the critical calls already waiting, ahead of every other.
            var after = _queue.First;
            while (after is not null && after.Value.Priority == CallPriority.Critical)
            {
                after = after.Next;
            }

            if (after is null)
            {
                _queue.AddLast(waiter.Node);
            }
            else
            {
                _queue.AddBefore(after, waiter.Node);
            }
        }
        else
        {
            _queue.AddLast(waiter.Node);
        }

        _queued++;
    }

    /// <summary>Hands free slots to waiting calls, first in line first.</summary>
    private void GrantWaiters()
    {
        lock (_queueLock)
        {
            while (_queue.First is { } first && TryTakeSlot(first.Value.Priority))
            {
                _queue.RemoveFirst();
                _queued--;

                // A waiter whose wait just ran out cannot take the slot: give it back and try the next.
                if (!first.Value.TrySetResult(true))
                {
                    Interlocked.Decrement(ref _inFlight);
                }
            }
        }
    }

    /// <summary>How a wait for a slot ended.</summary>
    internal enum WaitResult
    {
        Granted,
        QueueFull,
        Expired,
    }

    private sealed class Waiter : TaskCompletionSource<bool>
    {
        public Waiter(CallPriority priority)
            : base(TaskCreationOptions.RunContinuationsAsynchronously)
        {
            Priority = priority;
            Node = new LinkedListNode<Waiter>(this);
        }

        public CallPriority Priority { get; }

        public LinkedListNode<Waiter> Node { get; }
    }
}
