export { dialTunnel, type DialTunnelOptions, HEADER_INTERNAL_IP, HEADER_NODE, TUNNEL_MAX_PAYLOAD, TUNNEL_PATH, type TunnelPurpose, tunnelUrl } from './dial.ts';
export { StreamResetError, TunnelError } from './errors.ts';
export {
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_STREAMS,
  DEFAULT_WINDOW_BYTES,
  type StreamHeader,
  type TunnelEvents,
  type TunnelOptions,
  TunnelSession,
  type TunnelStats,
  TunnelStream,
} from './session.ts';
