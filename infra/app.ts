#!/usr/bin/env node
import { buildApp } from './build';

// `npm run synth` / `npx cdk deploy`: cdk-nag's AwsSolutions pack runs as a validation plugin, so
// any unacknowledged finding fails the synth.
buildApp({ nag: true }).app.synth();
