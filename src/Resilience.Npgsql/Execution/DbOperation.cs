using Npgsql;

namespace Resilience.Npgsql;

/// <summary>The caller's operation of one call: the asynchronous or the synchronous shape, whichever API the caller used.</summary>
/// <typeparam name="TState">The type of the state passed to the operation.</typeparam>
/// <typeparam name="TResult">The result type.</typeparam>
internal readonly struct DbOperation<TState, TResult>
{
    private readonly Func<NpgsqlCommand, TState, CancellationToken, ValueTask<TResult>>? _async;
    private readonly Func<NpgsqlCommand, TState, TResult>? _sync;

    public DbOperation(Func<NpgsqlCommand, TState, CancellationToken, ValueTask<TResult>> operation) => _async = operation;

    public DbOperation(Func<NpgsqlCommand, TState, TResult> operation) => _sync = operation;

    /// <summary>Gets a value indicating whether the caller used the asynchronous API (Npgsql's asynchronous I/O, which watches the token).</summary>
    public bool IsAsync => _async is not null;

    /// <summary>Runs the operation; a synchronous one completes before this returns.</summary>
    /// <remarks>
    /// Npgsql's synchronous I/O watches no token, so for a synchronous operation the token cancels the statement in flight
    /// (<see cref="SyncCancellation"/>): a timeout or the caller's cancellation stops it as it would stop an asynchronous one.
    /// </remarks>
    public ValueTask<TResult> InvokeAsync(NpgsqlCommand command, TState state, CancellationToken cancellationToken)
    {
        if (_async is not null)
        {
            return _async(command, state, cancellationToken);
        }

        cancellationToken.ThrowIfCancellationRequested();
        using var cancellation = SyncCancellation.Register(command, cancellationToken);
        return new ValueTask<TResult>(_sync!(command, state));
    }
}
