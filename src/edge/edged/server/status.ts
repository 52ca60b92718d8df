/**
 * What the kubelet writes on the error channel of exec/attach (remotecommand v4+): a metav1.Status. kubectl reads
 * the exit code from `details.causes[reason=ExitCode]` and exits with it.
 */
export type KubeStatus = {
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: { causes: Array<{ reason: string; message: string }> };
};

export function successStatus(): KubeStatus {
  return { metadata: {}, status: 'Success' };
}

export function exitCodeStatus(cmd: string[], exitCode: number): KubeStatus {
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${cmd.join(' ')}], exit code ${exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
  };
}

export function errorStatus(message: string): KubeStatus {
  return { metadata: {}, status: 'Failure', message, reason: 'InternalError' };
}
