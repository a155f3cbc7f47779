// The embedded engine's allocator (jemalloc, inside libchdb) hands freed memory back to the kernel
// 5 s after it is freed (ClickHouse's build). A feature export or a transform runs pass after pass,
// each freeing what the one after needs again, so on a virtual machine, where a page fault costs
// much, it paid the faults over: keeping freed pages 30 s took bench:features' steps to 0.86–0.94 of
// the time for ~100–200 MB more at the peak (bench/README.md). jemalloc reads
// this once, when the library loads: this module is imported before `chdb` wherever that is. A
// JE_MALLOC_CONF set by the user stays as it is.
process.env.JE_MALLOC_CONF ??= 'dirty_decay_ms:30000';
