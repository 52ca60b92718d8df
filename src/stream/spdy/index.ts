/** SPDY/3.1 as the Kubernetes streaming peers speak it (kube-apiserver to kubelet: exec, attach, port-forward). */
export { SPDY3_DICTIONARY } from './dictionary.ts';
export { FLAG_FIN, FrameReader, FrameType, RstStatus, encodeControl, encodeData } from './frames.ts';
export { HeaderCodec, decodeHeaderBlock, encodeHeaderBlock, type SpdyHeaders } from './headers.ts';
export { SpdySession, SpdyStream, type SpdySessionOptions } from './session.ts';
