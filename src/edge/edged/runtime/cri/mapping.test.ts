import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { containerConfig, nanosToIso, podLogDirectory, sandboxConfig } from './mapping.ts';

describe('CRI schema and mapping', () => {
  test('nanosecond timestamps become ISO strings; 0 is never', () => {
    assert.equal(nanosToIso('1700000000123456789'), '2023-11-14T22:13:20.123Z');
    assert.equal(nanosToIso('0'), undefined);
  });

  test('container config: Kubernetes command/args, user forms, cpu/memory limits, capabilities, log path', () => {
    const base = {
      name: 'k8s_c_p_ns_uid_2',
      image: 'busybox',
      sandboxId: 's',
      hostNetwork: false,
      env: [{ name: 'A', value: '1' }],
      mounts: [{ hostPath: '/h', containerPath: '/c', readOnly: true }],
    };
    const labels = { 'io.kubernetes.container.name': 'c', 'io.kubeedge-ts.restart-count': '2' };
    const c = containerConfig({ ...base, labels, command: ['sh'], user: '1000:2000', nanoCpus: 250_000_000, memoryBytes: 1 << 25, capAdd: ['NET_ADMIN'] });
    assert.deepEqual(c.metadata, { name: 'c', attempt: 2 });
    assert.deepEqual([c.command, c.args], [['sh'], []]);
    assert.equal(c.log_path, 'c/2.log');
    assert.deepEqual(c.envs, [{ key: 'A', value: '1' }]);
    assert.deepEqual(c.mounts, [{ container_path: '/c', host_path: '/h', readonly: true }]);
    assert.deepEqual(c.linux.resources, { cpu_period: '100000', cpu_quota: '25000', cpu_shares: '256', memory_limit_in_bytes: String(1 << 25) });
    assert.deepEqual(c.linux.security_context.run_as_user, { value: '1000' });
    assert.deepEqual(c.linux.security_context.run_as_group, { value: '2000' });
    assert.deepEqual(c.linux.security_context.capabilities, { add_capabilities: ['NET_ADMIN'], drop_capabilities: [] });
    assert.deepEqual(c.linux.security_context.namespace_options, { network: 'POD', pid: 'CONTAINER', ipc: 'POD' });
    const named = containerConfig({ ...base, labels, user: 'nobody', hostNetwork: true });
    assert.equal(named.linux.security_context.run_as_username, 'nobody');
    assert.equal(named.linux.security_context.namespace_options.network, 'NODE');
  });

  test('sandbox config: pod identity from the kubelet labels, kubelet log layout, ports only off the host network', () => {
    const labels = {
      'io.kubernetes.pod.name': 'web',
      'io.kubernetes.pod.namespace': 'prod',
      'io.kubernetes.pod.uid': 'u-1',
      'io.kubeedge-ts.restart-count': '1',
    };
    const dir = podLogDirectory('/var/log/pods', labels, 'x');
    assert.equal(dir, '/var/log/pods/prod_web_u-1');
    const ports = [{ containerPort: 80, hostPort: 8080, protocol: 'TCP' as const }];
    const s = sandboxConfig({ name: 'k8s_POD_web', image: 'kubeedge/pause:3.6', labels, hostname: 'web', hostNetwork: false, portMappings: ports }, dir);
    assert.deepEqual(s.metadata, { name: 'web', uid: 'u-1', namespace: 'prod', attempt: 1 });
    assert.deepEqual(s.port_mappings, [{ protocol: 'TCP', container_port: 80, host_port: 8080, host_ip: '' }]);
    assert.equal(s.linux.security_context.namespace_options.network, 'POD');
    const h = sandboxConfig({ name: 'n', image: 'kubeedge/pause:3.6', labels, hostname: 'web', hostNetwork: true, portMappings: ports, privileged: true }, dir);
    assert.deepEqual(h.port_mappings, []);
    assert.equal(h.linux.security_context.namespace_options.network, 'NODE');
    assert.equal(h.linux.security_context.privileged, true);
  });
});
