#!/usr/bin/env node
import main from '../dist/aggregator/main.js'
await main(process)
