import type { AnyTarget } from '../lib/harness.ts';
import { apiserver } from './apiserver.ts';
import { certs } from './certs.ts';
import { cloudhub } from './cloudhub.ts';
import { cloudcoreConfig, edgecoreConfig } from './config.ts';
import { edgehub } from './edgehub.ts';
import { patches } from './patches.ts';

export const TARGETS: readonly AnyTarget[] = [edgecoreConfig, cloudcoreConfig, apiserver, patches, cloudhub, edgehub, certs];
