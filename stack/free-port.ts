// Finds a free TCP port on the loopback interface by letting the kernel pick one.
import { createServer } from 'node:net';
import { StackError } from './errors.ts';

export function findFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new StackError('could not read the port the kernel assigned'));
      });
    });
  });
}
