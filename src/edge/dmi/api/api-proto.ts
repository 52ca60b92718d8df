// The DMI v1beta1 schema (KubeEdge v1.15 pkg/apis/dmi/v1beta1/api.proto) as text, so that a single-file bundle
// carries it. Package, services, methods, messages, field names and numbers are KubeEdge's, so a mapper built with
// KubeEdge's mapper framework and our edgecore (or our mappers and KubeEdge's edgecore) understand each other.
export const DMI_API_PROTO = `syntax = "proto3";

package v1beta1;

import "google/protobuf/any.proto";

// Served by edgecore on the DMI socket; mappers call it.
service DeviceManagerService {
  rpc MapperRegister(MapperRegisterRequest) returns (MapperRegisterResponse) {}
  rpc ReportDeviceStatus(ReportDeviceStatusRequest) returns (ReportDeviceStatusResponse) {}
}

// Served by each mapper on its own socket; edgecore calls it.
service DeviceMapperService {
  rpc RegisterDevice(RegisterDeviceRequest) returns (RegisterDeviceResponse) {}
  rpc RemoveDevice(RemoveDeviceRequest) returns (RemoveDeviceResponse) {}
  rpc UpdateDevice(UpdateDeviceRequest) returns (UpdateDeviceResponse) {}
  rpc CreateDeviceModel(CreateDeviceModelRequest) returns (CreateDeviceModelResponse) {}
  rpc RemoveDeviceModel(RemoveDeviceModelRequest) returns (RemoveDeviceModelResponse) {}
  rpc UpdateDeviceModel(UpdateDeviceModelRequest) returns (UpdateDeviceModelResponse) {}
  rpc GetDevice(GetDeviceRequest) returns (GetDeviceResponse) {}
}

message MapperRegisterRequest {
  bool withData = 1;
  MapperInfo mapper = 2;
}

message MapperRegisterResponse {
  repeated DeviceModel modelList = 1;
  repeated Device deviceList = 2;
}

message DeviceModel {
  string name = 1;
  DeviceModelSpec spec = 2;
}

message DeviceModelSpec {
  repeated ModelProperty properties = 1;
  repeated DeviceCommand commands = 2;
}

message ModelProperty {
  string name = 1;
  string description = 2;
  string type = 3;
  string accessMode = 4;
  string minimum = 5;
  string maximum = 6;
  string unit = 7;
}

message DeviceCommand {
  string name = 1;
  string url = 2;
  string method = 3;
  repeated string status_code = 4;
  repeated string parameters = 5;
  bytes response = 6;
}

message Device {
  string name = 1;
  DeviceSpec spec = 2;
  DeviceStatus status = 3;
}

message DeviceSpec {
  string deviceModelReference = 1;
  ProtocolConfig protocol = 2;
  repeated DeviceProperty properties = 3;
}

message DeviceProperty {
  string name = 1;
  TwinProperty desired = 2;
  VisitorConfig visitors = 3;
  int64 reportCycle = 4;
  int64 collectCycle = 5;
  bool reportToCloud = 6;
  PushMethod pushMethod = 7;
}

message ProtocolConfig {
  string protocolName = 1;
  CustomizedValue configData = 2;
}

message VisitorConfig {
  string protocolName = 1;
  CustomizedValue configData = 2;
}

// Each value is a google.protobuf wrapper (StringValue, FloatValue, Int64Value, BoolValue...) packed in an Any.
message CustomizedValue {
  map<string, google.protobuf.Any> data = 1;
}

message PushMethod {
  PushMethodHTTP http = 1;
  PushMethodMQTT mqtt = 2;
  DBMethod dbMethod = 3;
}

message PushMethodHTTP {
  string hostname = 1;
  int64 port = 2;
  string requestpath = 3;
  int64 timeout = 4;
}

message PushMethodMQTT {
  string address = 1;
  string topic = 2;
  int32 qos = 3;
  bool retained = 4;
}

message DBMethod {
  DBMethodInfluxdb2 influxdb2 = 1;
}

message DBMethodInfluxdb2 {
  Influxdb2ClientConfig influxdb2ClientConfig = 1;
  Influxdb2DataConfig influxdb2DataConfig = 2;
}

message Influxdb2DataConfig {
  string measurement = 1;
  map<string, string> tag = 2;
  string fieldKey = 3;
}

message Influxdb2ClientConfig {
  string url = 1;
  string org = 2;
  string bucket = 3;
}

message MapperInfo {
  string name = 1;
  string version = 2;
  string api_version = 3;
  string protocol = 4;
  // the mapper's own gRPC unix socket path
  bytes address = 5;
  string state = 6;
}

message ReportDeviceStatusRequest {
  string deviceName = 1;
  DeviceStatus reportedDevice = 2;
}

message DeviceStatus {
  repeated Twin twins = 1;
}

message Twin {
  string propertyName = 1;
  TwinProperty observedDesired = 2;
  TwinProperty reported = 3;
}

message TwinProperty {
  string value = 1;
  map<string, string> metadata = 2;
}

message ReportDeviceStatusResponse {}

message RegisterDeviceRequest {
  Device device = 1;
}

message RegisterDeviceResponse {
  string deviceName = 1;
}

message CreateDeviceModelRequest {
  DeviceModel model = 1;
}

message CreateDeviceModelResponse {
  string deviceModelName = 1;
}

message RemoveDeviceRequest {
  string deviceName = 1;
}

message RemoveDeviceResponse {}

message RemoveDeviceModelRequest {
  string modelName = 1;
}

message RemoveDeviceModelResponse {}

message UpdateDeviceRequest {
  Device device = 1;
}

message UpdateDeviceResponse {}

message UpdateDeviceModelRequest {
  DeviceModel model = 1;
}

message UpdateDeviceModelResponse {}

message GetDeviceRequest {
  string deviceName = 1;
}

message GetDeviceResponse {
  Device device = 1;
}
`;
