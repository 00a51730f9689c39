using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace Resilience;

/// <summary>The result of one operation: either a value or the exception it failed with.</summary>
/// <typeparam name="TResult">The type of the value.</typeparam>
/// <remarks>
/// Strategies pass outcomes to each other instead of throwing, so a failure costs one exception object
/// (created by the operation) and is thrown at most once, at the edge, when the caller asked for a throwing API.
/// </remarks>
public readonly struct Outcome<TResult>
{
    private readonly TResult? _result;
    private readonly ExceptionDispatchInfo? _exception;

    internal Outcome(TResult? result, ExceptionDispatchInfo? exception)
    {
        _result = result;
        _exception = exception;
    }

    /// <summary>Gets the value; <see langword="default"/> when the outcome is a failure.</summary>
    public TResult? Result => _result;

    /// <summary>Gets the exception; <see langword="null"/> when the outcome is a value.</summary>
    public Exception? Exception => _exception?.SourceException;

    /// <summary>Gets a value indicating whether the outcome holds an exception.</summary>
    public bool HasException => _exception is not null;

    /// <summary>Returns the value, or rethrows the exception with its original stack trace (a shared rejection as a fresh copy).</summary>
    /// <returns>The value.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public TResult GetResultOrThrow()
    {
        if (_exception is not null)
        {
            Throw(_exception);
        }

        return _result!;
    }

    // A refusing layer (an open circuit) shares one rejection between non-throwing callers; thrown from many threads at once its stack trace would
    // be rewritten under them, so each throw gets a copy.
    private static void Throw(ExceptionDispatchInfo exception)
    {
        if (exception.SourceException is ExecutionRejectedException { IsShared: true } shared)
        {
            throw shared.ForThrowing();
        }

        exception.Throw();
    }

    /// <summary>Gets the value when the outcome is not a failure.</summary>
    /// <param name="result">The value, or <see langword="default"/>.</param>
    /// <returns><see langword="true"/> when the outcome holds a value.</returns>
    public bool TryGetResult(out TResult result)
    {
        result = _result!;
        return _exception is null;
    }

    /// <inheritdoc />
    public override string ToString() =>
        _exception is null ? $"Result: {_result}" : $"Exception: {_exception.SourceException.GetType().Name}";
}

/// <summary>Creates <see cref="Outcome{TResult}"/> values.</summary>
public static class Outcome
{
    /// <summary>Creates an outcome that holds <paramref name="result"/>.</summary>
    /// <typeparam name="TResult">The type of the value.</typeparam>
    /// <param name="result">The value.</param>
    /// <returns>The outcome.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Outcome<TResult> FromResult<TResult>(TResult result) => new(result, null);

    /// <summary>Creates an outcome that holds <paramref name="exception"/>, keeping its original stack trace.</summary>
    /// <typeparam name="TResult">The type of the value the operation would have produced.</typeparam>
    /// <param name="exception">The failure.</param>
    /// <returns>The outcome.</returns>
    public static Outcome<TResult> FromException<TResult>(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return new(default, ExceptionDispatchInfo.Capture(exception));
    }
}
