import WorkerPool
