/**
 * The kubelet-API cases whose behaviour is the same on every engine (exec -it with resize, attach, exec over SPDY,
 * port-forward over WebSocket and SPDY), registered in the calling suite. The suite starts an edge running the
 * pods `talker` (container `main`, hostname `talker`, HTTP on 8080) and `catter` (container `cat`, stdin open), and
 * `k()` gives that edge's kubelet API once started.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openChannels, readStream, spdyConnect } from './kube-stream.ts';

export type KubeletApiTarget = { base: string; kubeletPort: number };

export function engineNeutralKubeletApiCases(k: () => KubeletApiTarget): void {
  test('exec -it: typing echo hi prints hi; a resize reaches the tty (stty size)', async () => {
    const c = await openChannels(`${k().base.replace('http', 'ws')}/exec/default/talker/main?command=sh&input=1&output=1&tty=1`);
    // A resize travels beside the typed bytes (to the engine's resize call), so the shell may read a line typed
    // right after it first, as in a real terminal: ask again until the new size shows.
    const sizeShows = async (size: string): Promise<void> => {
      for (let i = 0; ; i++) {
        c.send(0, 'stty size\n');
        try {
          await c.waitFor(1, size, 500);
          return;
        } catch (err) {
          if (i >= 20) throw err;
        }
      }
    };
    c.resize(100, 40);
    c.send(0, 'echo hi\n');
    await c.waitFor(1, /\r?\nhi\r?\n/);
    await sizeShows('40 100');
    c.resize(120, 50);
    await sizeShows('50 120');
    c.send(0, 'exit\n');
    assert.equal((await c.closed)?.status, 'Success');
  });

  test('attach: what goes to the container stdin comes back from cat', async () => {
    const c = await openChannels(`${k().base.replace('http', 'ws')}/attach/default/catter/cat?input=1&output=1&error=1`);
    c.send(0, 'ping through attach\n');
    await c.waitFor(1, 'ping through attach');
    c.close();
    await c.closed;
  });

  test('exec over SPDY/3.1 (as kube-apiserver speaks to kubelets): streams, stdout, Status on the error stream', async () => {
    const { session, protocol } = await spdyConnect(k().kubeletPort, '/exec/default/talker/main?command=cat&command=/etc/hostname&output=1&error=1', [
      'v4.channel.k8s.io',
      'v3.channel.k8s.io',
    ]);
    assert.equal(protocol, 'v4.channel.k8s.io');
    const error = await session.openStream({ streamtype: 'error' }, { fin: true });
    const stdout = await session.openStream({ streamtype: 'stdout' }, { fin: true });
    const stderr = await session.openStream({ streamtype: 'stderr' }, { fin: true });
    const [out, err, status] = await Promise.all([readStream(stdout), readStream(stderr), readStream(error)]);
    assert.equal(out.trim(), 'talker');
    assert.equal(err, '');
    assert.equal(JSON.parse(status).status, 'Success');
    session.destroy();
  });

  test('port-forward: an HTTP GET through the pod port (WebSocket and SPDY portforward.k8s.io)', async () => {
    const c = await openChannels(`${k().base.replace('http', 'ws')}/portForward/default/talker?ports=8080`, ['v4.channel.k8s.io']);
    await c.waitFor(1, '');
    c.send(0, 'GET /hostname HTTP/1.0\r\n\r\n');
    const got = await c.waitFor(0, 'talker');
    assert.equal(c.received.get(0)?.readUInt16LE(0), 8080, 'the data channel starts with the port');
    assert.match(got, /HTTP\/1\.[01] 200/);
    c.close();

    const { session } = await spdyConnect(k().kubeletPort, '/portForward/default/talker', ['portforward.k8s.io']);
    const errorStream = await session.openStream({ streamtype: 'error', port: '8080', requestid: '0' }, { fin: true });
    const data = await session.openStream({ streamtype: 'data', port: '8080', requestid: '0' });
    data.end('GET /hostname HTTP/1.0\r\n\r\n');
    const [page, errText] = await Promise.all([readStream(data), readStream(errorStream)]);
    assert.match(page, /^HTTP\/1\.[01] 200[\s\S]*\r\n\r\ntalker\n$/);
    assert.equal(errText, '');
    session.destroy();
  });
}
