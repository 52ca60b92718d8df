// The DMI v1beta1 messages as proto-loader hands them over (keepCase, longs as numbers, defaults filled in).

export type PbAny = { type_url: string; value: Uint8Array };
export type PbCustomizedValue = { data: Record<string, PbAny> };
export type PbTwinProperty = { value: string; metadata: Record<string, string> };

export type PbPushMethod = {
  http?: { hostname: string; port: number; requestpath: string; timeout: number } | null;
  mqtt?: { address: string; topic: string; qos: number; retained: boolean } | null;
  dbMethod?: unknown;
};

export type PbDeviceProperty = {
  name: string;
  desired?: PbTwinProperty | null;
  visitors?: { protocolName: string; configData?: PbCustomizedValue | null } | null;
  reportCycle: number;
  collectCycle: number;
  reportToCloud: boolean;
  pushMethod?: PbPushMethod | null;
};

export type PbTwin = { propertyName: string; observedDesired?: PbTwinProperty | null; reported?: PbTwinProperty | null };
export type PbDeviceStatus = { twins: PbTwin[] };

export type PbDevice = {
  name: string;
  spec?: {
    deviceModelReference: string;
    protocol?: { protocolName: string; configData?: PbCustomizedValue | null } | null;
    properties: PbDeviceProperty[];
  } | null;
  status?: PbDeviceStatus | null;
};

export type PbModelProperty = {
  name: string;
  description: string;
  type: string;
  accessMode: string;
  minimum: string;
  maximum: string;
  unit: string;
};

export type PbDeviceModel = { name: string; spec?: { properties: PbModelProperty[]; commands: unknown[] } | null };

export type PbMapperInfo = { name: string; version: string; api_version: string; protocol: string; address: Uint8Array | string; state: string };

export type MapperRegisterRequest = { withData: boolean; mapper?: PbMapperInfo | null };
export type MapperRegisterResponse = { modelList: PbDeviceModel[]; deviceList: PbDevice[] };
export type ReportDeviceStatusRequest = { deviceName: string; reportedDevice?: PbDeviceStatus | null };
