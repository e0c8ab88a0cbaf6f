import fs from 'node:fs';
import net from 'node:net';
import { freePort } from '../helpers/temporal';

// A port handed to a server that binds it later must not lie where outgoing connections take theirs.
describe('freePort', () => {
  const [ephemeralFrom] = fs
    .readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
    .trim()
    .split(/\s+/)
    .map(Number);

  it('chooses a bindable loopback port below the kernel ephemeral range', async () => {
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    for (const port of ports) expect(port).toBeLessThan(ephemeralFrom);
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(ports[0], '127.0.0.1', resolve));
    await new Promise((resolve) => server.close(resolve));
  });
});
