#!/usr/bin/env bash
# Builds (or finds cached) kube-apiserver, kubectl and etcd for the test bed; see test/testbed/build.sh.
exec bash "$(dirname "$0")/../test/testbed/build.sh"
