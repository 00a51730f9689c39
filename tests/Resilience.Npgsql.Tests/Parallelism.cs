// Three collections at a time, not xUnit's default of one per core (two here): the "postgres" collection is the longest
// lane (about 80 s of CI, its classes one after another; Infrastructure/PostgresLaneFirst starts it first), while the
// classes that own a server (stopped, paused, restarted) mostly wait on it. The whole run uses about a third of one
// core (38 s user, 18 s system in 144 s, 2026-12-07), so a third slot takes no test's CPU. The fault comparison still
// runs alone, after the rest (its collection disables parallelization).
[assembly: CollectionBehavior(MaxParallelThreads = 3)]
