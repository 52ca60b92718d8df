export { KubeletServer, parseRoute, streamFlags, logOptions, type KubeletServerOptions, type PodSource } from './server.ts';
