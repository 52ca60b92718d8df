/** A device as a mapper works with it: DMI's Device joined with its model's property facts, configData decoded. */
export type PushMethod = {
  http?: { hostname: string; port: number; requestpath: string; timeout: number };
  mqtt?: { address: string; topic: string; qos: number; retained: boolean };
};

export type MapperProperty = {
  name: string;
  /** Model type, lowercase: int, float, double, boolean, string. */
  type: string;
  accessMode: 'ReadOnly' | 'ReadWrite';
  minimum?: number;
  maximum?: number;
  visitor: Record<string, unknown>;
  /** The desired value DeviceTwin holds for a ReadWrite property ('' when none). */
  desired: string;
  collectCycleMs: number;
  reportCycleMs: number;
  reportToCloud: boolean;
  pushMethod?: PushMethod;
};

export type MapperDevice = {
  name: string;
  model: string;
  protocol: string;
  protocolConfig: Record<string, unknown>;
  properties: MapperProperty[];
};

export type Value = string | number | boolean;

/** One open device: what a protocol driver gives the device loop. */
export type DeviceConnection = {
  read(p: MapperProperty): Promise<Value>;
  write(p: MapperProperty, value: string): Promise<void>;
  close(): Promise<void>;
};

/** A protocol driver: the only part a new mapper writes. */
export type Driver = {
  readonly protocol: string;
  open(d: MapperDevice): Promise<DeviceConnection>;
};
