using ContentService.Tasks.Execution;
using Microsoft.Extensions.Options;

namespace ContentService.Tasks;

/// <summary>The tasks API and its executor.</summary>
internal static class TasksServiceCollectionExtensions
{
    public static IServiceCollection AddTasks(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<TaskRepository>();
        services.AddSingleton<TaskSignal>();
        services.AddSingleton<RunningTaskRegistry>();
        services.AddOptions<ExecutorOptions>().Bind(configuration.GetSection(ExecutorOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ExecutorOptions>, ExecutorOptionsValidator>();
        services.AddSingleton<TaskStore>();
        services.AddSingleton<ContentPipeline>();
        services.AddSingleton<TaskExecutor>();
        services.AddHostedService(static sp => sp.GetRequiredService<TaskExecutor>());
        return services;
    }
}
