#!/usr/bin/env node
import { main } from '../dist/bundle/rtmpush.mjs';

process.exitCode = await main(process.argv.slice(2));
