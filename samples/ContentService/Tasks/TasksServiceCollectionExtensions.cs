using ContentService.Tasks.Execution;

namespace ContentService.Tasks;

/// <summary>The tasks API and its executor.</summary>
internal static class TasksServiceCollectionExtensions
{
    public static IServiceCollection AddTasks(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<TaskRepository>();
        services.AddSingleton<TaskSignal>();
        services.AddSingleton<RunningTaskRegistry>();
        return services;
    }
}
