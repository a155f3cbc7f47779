// Redis' own CPU time, for the benchmarks that write or read it: INFO cpu, every thread of it.
import { connectRedis, parseRedisTarget } from '../features/index.ts';

/** CPU seconds the Redis server at `url` has used so far. */
export async function redisCpu(url: string): Promise<number> {
  const client = await connectRedis(parseRedisTarget(url));
  try {
    const info = await client.info('cpu');
    const used = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1]);
    return used('used_cpu_sys') + used('used_cpu_user');
  } finally {
    client.disconnect();
  }
}
