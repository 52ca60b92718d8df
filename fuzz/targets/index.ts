import type { AnyTarget } from '../lib/harness.ts';
import { apiserver } from './apiserver.ts';
import { cloudcoreConfig, edgecoreConfig } from './config.ts';

export const TARGETS: readonly AnyTarget[] = [edgecoreConfig, cloudcoreConfig, apiserver];
