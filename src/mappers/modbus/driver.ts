/**
 * The `modbus` protocol over TCP, on jsmodbus (no protocol code of our own). Protocol configData `{ip, port,
 * slaveID}` names the device; each property's visitor the register kind, offset, limit, scale and byte order.
 */
import net from 'node:net';
import Modbus from 'jsmodbus';
import type { DeviceConnection, Driver, MapperDevice, MapperProperty, Value } from '../lib/types.ts';
import { configError } from '../lib/errors.ts';
import { decodeRegisters, encodeRegisters, parseVisitor } from './codec.ts';

export type ModbusTarget = { host: string; port: number; unitId: number };

export function parseProtocol(c: Record<string, unknown>): ModbusTarget {
  const host = typeof c['ip'] === 'string' && c['ip'] !== '' ? c['ip'] : undefined;
  if (host === undefined) throw configError('protocol.configData.ip is required');
  const port = typeof c['port'] === 'number' ? c['port'] : 502;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw configError('protocol.configData.port must be 1..65535');
  const unitId = typeof c['slaveID'] === 'number' ? c['slaveID'] : 1;
  if (!Number.isInteger(unitId) || unitId < 0 || unitId > 255) throw configError('protocol.configData.slaveID must be 0..255');
  return { host, port, unitId };
}

const TIMEOUT_MS = 3000;

class ModbusConnection implements DeviceConnection {
  readonly #socket: net.Socket;
  readonly #client: InstanceType<typeof Modbus.client.TCP>;

  #closed = false;

  constructor(socket: net.Socket, unitId: number) {
    this.#socket = socket;
    this.#client = new Modbus.client.TCP(socket, unitId, TIMEOUT_MS);
    socket.once('close', () => {
      this.#closed = true;
    });
  }

  #alive(): void {
    if (this.#closed) throw Object.assign(new Error('modbus connection closed'), { code: 'ECONNRESET' });
  }

  async read(p: MapperProperty): Promise<Value> {
    this.#alive();
    const v = parseVisitor(p.name, p.visitor);
    const c = this.#client;
    switch (v.register) {
      case 'HoldingRegister':
        return decodeRegisters(v, (await c.readHoldingRegisters(v.offset, v.limit)).response.body.valuesAsBuffer);
      case 'InputRegister':
        return decodeRegisters(v, (await c.readInputRegisters(v.offset, v.limit)).response.body.valuesAsBuffer);
      case 'CoilRegister':
        return (await c.readCoils(v.offset, 1)).response.body.valuesAsArray[0] === 1;
      case 'DiscreteInputRegister':
        return (await c.readDiscreteInputs(v.offset, 1)).response.body.valuesAsArray[0] === 1;
    }
  }

  async write(p: MapperProperty, value: string): Promise<void> {
    this.#alive();
    const v = parseVisitor(p.name, p.visitor);
    if (v.register === 'CoilRegister') {
      await this.#client.writeSingleCoil(v.offset, value === 'true' || Number(value) !== 0);
      return;
    }
    if (v.register !== 'HoldingRegister') throw configError(`property ${p.name}: a ${v.register} cannot be written`);
    const n = Number(value);
    if (!Number.isFinite(n)) throw configError(`property ${p.name}: ${JSON.stringify(value)} is not a number`);
    const words = encodeRegisters(v, n);
    if (words.length === 1) await this.#client.writeSingleRegister(v.offset, words[0] ?? 0);
    else await this.#client.writeMultipleRegisters(v.offset, words);
  }

  async close(): Promise<void> {
    this.#socket.destroy();
  }
}

export async function connectModbus(t: ModbusTarget): Promise<DeviceConnection> {
  const socket = new net.Socket();
  // the client learns the link is up from the socket's connect event: make it before connecting
  const conn = new ModbusConnection(socket, t.unitId);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error(`modbus ${t.host}:${t.port} did not answer in ${TIMEOUT_MS} ms`), { code: 'ETIMEDOUT' }));
    }, TIMEOUT_MS);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.connect({ host: t.host, port: t.port });
  });
  // a late error after connect must not crash the mapper: reads fail and the device loop reconnects
  socket.on('error', () => undefined);
  return conn;
}

export const modbusDriver: Driver = {
  protocol: 'modbus',
  open: (d: MapperDevice) => connectModbus(parseProtocol(d.protocolConfig)),
};
