import type { AnyTarget } from '../lib/harness.ts';
import { apiserver } from './apiserver.ts';
import { cloudhub } from './cloudhub.ts';
import { cloudcoreConfig, edgecoreConfig } from './config.ts';

export const TARGETS: readonly AnyTarget[] = [edgecoreConfig, cloudcoreConfig, apiserver, cloudhub];
