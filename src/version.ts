/** Set by the bundler from package.json; the fallback covers running the sources directly. */
export const VERSION: string = process.env.KUBEEDGE_TS_VERSION ?? '0.1.0-dev';
/** The Kubernetes version whose API we speak, reported by the API server and the edge's kubelet version. */
export const KUBE_VERSION = 'v1.32.10';
