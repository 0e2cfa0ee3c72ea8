#!/usr/bin/env bash
# A real Kubernetes control plane on loopback, from binaries, for cluster-backed
# tests: etcd + kube-apiserver + kube-controller-manager + kube-scheduler built
# from the k8s.io/kubernetes module pinned in k8s/go.mod, and KWOK (fake nodes,
# pod lifecycle driven by Stage CRDs). No Docker, no downloads but Go modules.
#
#   cluster.sh up       build what is missing, start everything, wait until ready
#   cluster.sh down     stop everything and delete the cluster's state
#   cluster.sh status   show each process and the apiserver's /readyz
#   cluster.sh smoke    create a fake node and a pod; wait for Ready / Running
#   cluster.sh build    only build the binaries (into the cache, never the repo)
#   cluster.sh env      print `export KUBECONFIG=...`
#   cluster.sh gomod V  rewrite k8s/go.mod for k8s.io/kubernetes V (e.g. v1.36.5)
#
# Binaries go to $KUBESIM_CACHE/<k8s version>/bin (default ~/.cache/kubesim),
# cluster state (certs, etcd data, logs, pids) to $KUBESIM_CACHE/cluster, the
# kubeconfig (context kwok-kubesim) to $KUBESIM_CACHE/kubeconfig; unless
# KUBESIM_MERGE_KUBECONFIG=0 the context is also merged into ~/.kube/config
# (and removed again by `down`), as kind and kwokctl do.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
K8S_MOD_DIR=$HERE/k8s
K8S_VERSION=$(awk '$1=="k8s.io/kubernetes" && $2 ~ /^v/ {print $2; exit}' "$K8S_MOD_DIR/go.mod")
KWOK_VERSION=${KWOK_VERSION:-v0.8.0}
# etcd: Debian's etcd-server (3.4) is too old for kube-apiserver 1.36, so etcd
# is built from go.etcd.io/etcd/server/v3 (its etcdmain) at this version.
ETCD_VERSION=${ETCD_VERSION:-v3.6.8}

CACHE=${KUBESIM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubesim}
BIN=$CACHE/$K8S_VERSION/bin
STATE=$CACHE/cluster
PKI=$STATE/pki
LOGS=$STATE/logs
PIDS=$STATE/pids
KUBECONFIG_OUT=$CACHE/kubeconfig
CONTEXT=kwok-kubesim

ETCD_PORT=${KUBESIM_ETCD_PORT:-12379}
ETCD_PEER_PORT=${KUBESIM_ETCD_PEER_PORT:-12380}
APISERVER_PORT=${KUBESIM_APISERVER_PORT:-16443}
KCM_PORT=${KUBESIM_KCM_PORT:-16257}
SCHEDULER_PORT=${KUBESIM_SCHEDULER_PORT:-16259}
KWOK_PORT=${KUBESIM_KWOK_PORT:-16247}
SERVICE_CIDR=${KUBESIM_SERVICE_CIDR:-10.96.0.0/16}
SERVICE_IP=10.96.0.1
POD_CIDR=${KUBESIM_POD_CIDR:-10.244.0.0/16}
SERVER=https://127.0.0.1:$APISERVER_PORT

COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

log() { printf '[cluster] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.1f", b-a}'; }

# ---------------------------------------------------------------- build

k8s_ldflags() {
	local major minor
	major=${K8S_VERSION#v}; major=${major%%.*}
	minor=${K8S_VERSION#v*.}; minor=${minor%%.*}
	local f="-s -w" p
	for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		f+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=$major -X $p.gitMinor=$minor"
		f+=" -X $p.gitTreeState=clean -X $p.buildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	done
	echo "$f"
}

record_build() { # name seconds
	local size
	size=$(stat -c %s "$BIN/$1")
	printf '%s\t%ss\t%s bytes\t%s\t%s\n' "$1" "$2" "$size" "$(go env GOVERSION)" "$(date -u +%FT%TZ)" \
		>>"$CACHE/$K8S_VERSION/build-times.tsv"
	log "built $1 in ${2}s ($((size / 1048576)) MiB)"
}

build_k8s() { # component
	local c=$1 t
	[[ -x $BIN/$c ]] && return 0
	command -v go >/dev/null || die "go is needed to build $c"
	log "building $c $K8S_VERSION (go build k8s.io/kubernetes/cmd/$c; a few minutes when cold)"
	t=$(now)
	(cd "$K8S_MOD_DIR" && CGO_ENABLED=0 nice -n 10 go build -trimpath \
		-ldflags "$(k8s_ldflags)" -o "$BIN/.$c.tmp" "./cmd/$c")
	mv "$BIN/.$c.tmp" "$BIN/$c"
	record_build "$c" "$(since "$t")"
}

build_go_install() { # name package@version ldflags
	local name=$1 pkg=$2 ldflags=$3 t tmp
	[[ -x $BIN/$name ]] && return 0
	command -v go >/dev/null || die "go is needed to build $name"
	log "building $name (go install $pkg)"
	t=$(now)
	tmp=$(mktemp -d "$BIN/.gobin.XXXXXX")
	# go install pkg@version builds with that module's own go.mod/go.sum.
	GOBIN=$tmp CGO_ENABLED=0 GOFLAGS=-buildvcs=false nice -n 10 \
		go install -trimpath -ldflags "$ldflags" "$pkg"
	mv "$tmp"/* "$BIN/$name"
	rmdir "$tmp"
	record_build "$name" "$(since "$t")"
}

build_etcd() {
	[[ -x $BIN/etcd ]] && return 0
	command -v go >/dev/null || die "go is needed to build etcd"
	# go.etcd.io/etcd/v3 (the etcd main package) has replace directives, so it
	# cannot be `go install`ed; etcdmain.Main is called from a one-line main.
	local t; t=$(now)
	log "building etcd $ETCD_VERSION (go.etcd.io/etcd/server/v3/etcdmain)"
	(cd "$HERE/etcd" && CGO_ENABLED=0 nice -n 10 go build -trimpath -ldflags "-s -w" \
		-o "$BIN/.etcd.tmp" .)
	mv "$BIN/.etcd.tmp" "$BIN/etcd"
	record_build etcd "$(since "$t")"
}

cmd_build() {
	mkdir -p "$BIN"
	local t; t=$(now)
	build_k8s kube-apiserver
	build_k8s kube-controller-manager
	build_k8s kube-scheduler
	build_k8s kubectl
	build_etcd
	build_go_install kwok "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" "-s -w"
	log "binaries ready in $BIN ($(since "$t")s)"
}

# ---------------------------------------------------------------- certificates

gen_cert() { # name CN O [SANs]; signed by $CA (default ca)
	local name=$1 cn=$2 o=$3 san=${4:-} ca=${CA:-ca}
	openssl ecparam -name prime256v1 -genkey -noout -out "$PKI/$name.key" 2>/dev/null
	local subj="/CN=$cn"
	[[ -n $o ]] && subj="/O=$o$subj"
	local ext=$PKI/$name.ext
	{
		echo "basicConstraints=CA:FALSE"
		echo "keyUsage=critical,digitalSignature,keyEncipherment"
		if [[ -n $san ]]; then
			echo "extendedKeyUsage=serverAuth,clientAuth"
			echo "subjectAltName=$san"
		else
			echo "extendedKeyUsage=clientAuth"
		fi
	} >"$ext"
	openssl req -new -key "$PKI/$name.key" -subj "$subj" -out "$PKI/$name.csr" 2>/dev/null
	openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/$ca.crt" -CAkey "$PKI/$ca.key" \
		-CAcreateserial -days 365 -sha256 -extfile "$ext" -out "$PKI/$name.crt" 2>/dev/null
	rm -f "$PKI/$name.csr" "$ext"
}

gen_ca() { # name CN
	openssl ecparam -name prime256v1 -genkey -noout -out "$PKI/$1.key" 2>/dev/null
	openssl req -x509 -new -key "$PKI/$1.key" -subj "/CN=$2" -days 3650 -sha256 \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,digitalSignature,keyCertSign,cRLSign" \
		-out "$PKI/$1.crt" 2>/dev/null
}

gen_pki() {
	mkdir -p "$PKI"
	gen_ca ca kubesim-ca
	# Front proxy (request-header auth), as kubeadm sets it up: without it the
	# KCM and scheduler log "missing content for CA bundle" every few seconds.
	gen_ca front-proxy-ca kubesim-front-proxy-ca
	CA=front-proxy-ca gen_cert front-proxy-client front-proxy-client ""
	gen_cert apiserver kube-apiserver "" \
		"DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,IP:127.0.0.1,IP:$SERVICE_IP"
	gen_cert admin kubernetes-admin system:masters
	gen_cert kube-controller-manager system:kube-controller-manager ""
	gen_cert kube-scheduler system:kube-scheduler ""
	gen_cert kwok kwok-controller system:masters
	# Service-account token signing key pair.
	openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
	openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
	chmod 600 "$PKI"/*.key
}

write_kubeconfig() { # file user
	local file=$1 user=$2
	cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: $CONTEXT
  cluster:
    server: $SERVER
    certificate-authority-data: $(base64 -w0 "$PKI/ca.crt")
users:
- name: $CONTEXT-$user
  user:
    client-certificate-data: $(base64 -w0 "$PKI/$user.crt")
    client-key-data: $(base64 -w0 "$PKI/$user.key")
contexts:
- name: $CONTEXT
  context:
    cluster: $CONTEXT
    user: $CONTEXT-$user
current-context: $CONTEXT
EOF
	chmod 600 "$file"
}

# ---------------------------------------------------------------- processes

pid_of() { [[ -f $PIDS/$1.pid ]] && cat "$PIDS/$1.pid"; }
# alive NAME: its recorded pid still runs that binary (guards against pid reuse).
alive() {
	local p
	p=$(pid_of "$1") && [[ -n $p ]] && kill -0 "$p" 2>/dev/null &&
		tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q -- "$BIN/$1 "
}

start() { # name cmd...
	local name=$1; shift
	mkdir -p "$LOGS" "$PIDS"
	setsid "$@" >"$LOGS/$name.log" 2>&1 </dev/null &
	echo $! >"$PIDS/$name.pid"
}

wait_for() { # what timeout-seconds cmd...
	local what=$1 limit=$2; shift 2
	local t; t=$(now)
	while ! "$@" >/dev/null 2>&1; do
		local c
		for c in "${COMPONENTS[@]}"; do
			if [[ -f $PIDS/$c.pid ]] && ! alive "$c"; then
				tail -n 30 "$LOGS/$c.log" >&2 || true
				die "$c exited while waiting for $what (log: $LOGS/$c.log)"
			fi
		done
		if awk -v a="$t" -v b="$(now)" -v l="$limit" 'BEGIN{exit !(b-a>l)}'; then
			die "timed out after ${limit}s waiting for $what (logs: $LOGS)"
		fi
		sleep 0.2
	done
	log "$what ready (+$(since "$t")s)"
}

stop() { # name
	local p
	p=$(pid_of "$1") || return 0
	if alive "$1"; then
		kill -TERM "$p" 2>/dev/null || true
		local i
		for i in $(seq 1 50); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.2
		done
		kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null || true
		log "stopped $1 (pid $p)"
	fi
	rm -f "$PIDS/$1.pid"
}

kctl() { "$BIN/kubectl" --kubeconfig "$KUBECONFIG_OUT" --context "$CONTEXT" "$@"; }
curl_api() { curl -sf --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" "$SERVER$1"; }

port_free() {
	! ss -Hltn "sport = :$1" | grep -q .
}

# ---------------------------------------------------------------- commands

cmd_up() {
	cmd_build
	local c any=0
	for c in "${COMPONENTS[@]}"; do alive "$c" && any=1; done
	if ((any)); then
		if cmd_status >/dev/null 2>&1; then
			log "already up; kubeconfig: $KUBECONFIG_OUT (context $CONTEXT)"
			echo "$KUBECONFIG_OUT"
			return 0
		fi
		log "a previous cluster is partly running; stopping it first"
		cmd_down
	fi
	local p
	for p in "$ETCD_PORT" "$ETCD_PEER_PORT" "$APISERVER_PORT" "$KCM_PORT" "$SCHEDULER_PORT" "$KWOK_PORT"; do
		port_free "$p" || die "port 127.0.0.1:$p is in use (set KUBESIM_*_PORT)"
	done

	local t0; t0=$(now)
	rm -rf "$STATE"
	mkdir -p "$STATE" "$LOGS" "$PIDS"
	gen_pki
	write_kubeconfig "$KUBECONFIG_OUT" admin
	write_kubeconfig "$STATE/kube-controller-manager.kubeconfig" kube-controller-manager
	write_kubeconfig "$STATE/kube-scheduler.kubeconfig" kube-scheduler
	write_kubeconfig "$STATE/kwok.kubeconfig" kwok
	log "certificates and kubeconfigs written (+$(since "$t0")s)"

	start etcd "$BIN/etcd" \
		--name kubesim \
		--data-dir "$STATE/etcd" \
		--listen-client-urls "http://127.0.0.1:$ETCD_PORT" \
		--advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
		--listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
		--initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
		--initial-cluster "kubesim=http://127.0.0.1:$ETCD_PEER_PORT" \
		--listen-metrics-urls "" \
		--unsafe-no-fsync \
		--log-level warn
	wait_for etcd 30 curl -sf "http://127.0.0.1:$ETCD_PORT/health"

	start kube-apiserver "$BIN/kube-apiserver" \
		--etcd-servers "http://127.0.0.1:$ETCD_PORT" \
		--bind-address 127.0.0.1 \
		--advertise-address 127.0.0.1 \
		--secure-port "$APISERVER_PORT" \
		--tls-cert-file "$PKI/apiserver.crt" \
		--tls-private-key-file "$PKI/apiserver.key" \
		--client-ca-file "$PKI/ca.crt" \
		--service-account-issuer https://kubernetes.default.svc.cluster.local \
		--service-account-key-file "$PKI/sa.pub" \
		--service-account-signing-key-file "$PKI/sa.key" \
		--service-cluster-ip-range "$SERVICE_CIDR" \
		--authorization-mode Node,RBAC \
		--requestheader-client-ca-file "$PKI/front-proxy-ca.crt" \
		--requestheader-allowed-names front-proxy-client \
		--requestheader-username-headers X-Remote-User \
		--requestheader-group-headers X-Remote-Group \
		--requestheader-extra-headers-prefix X-Remote-Extra- \
		--proxy-client-cert-file "$PKI/front-proxy-client.crt" \
		--proxy-client-key-file "$PKI/front-proxy-client.key" \
		--allow-privileged=true \
		--endpoint-reconciler-type none \
		--profiling=false \
		--v=1
	wait_for "kube-apiserver /readyz" 120 curl_api /readyz

	start kube-controller-manager "$BIN/kube-controller-manager" \
		--kubeconfig "$STATE/kube-controller-manager.kubeconfig" \
		--authentication-kubeconfig "$STATE/kube-controller-manager.kubeconfig" \
		--authorization-kubeconfig "$STATE/kube-controller-manager.kubeconfig" \
		--bind-address 127.0.0.1 \
		--secure-port "$KCM_PORT" \
		--leader-elect=false \
		--use-service-account-credentials=true \
		--service-account-private-key-file "$PKI/sa.key" \
		--root-ca-file "$PKI/ca.crt" \
		--cluster-signing-cert-file "$PKI/ca.crt" \
		--cluster-signing-key-file "$PKI/ca.key" \
		--service-cluster-ip-range "$SERVICE_CIDR" \
		--profiling=false \
		--v=1
	start kube-scheduler "$BIN/kube-scheduler" \
		--kubeconfig "$STATE/kube-scheduler.kubeconfig" \
		--authentication-kubeconfig "$STATE/kube-scheduler.kubeconfig" \
		--authorization-kubeconfig "$STATE/kube-scheduler.kubeconfig" \
		--bind-address 127.0.0.1 \
		--secure-port "$SCHEDULER_PORT" \
		--leader-elect=false \
		--profiling=false \
		--v=1

	# KWOK: Stage CRD plus the upstream "fast" stages (node-initialize,
	# node-heartbeat-with-lease, pod-ready, pod-complete, pod-delete), read
	# from the kwok module that `go install` put into the module cache.
	local kwok_src
	kwok_src=$(cd / && go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" |
		awk -F'"' '$2=="Dir"{print $4}')
	[[ -d $kwok_src/kustomize ]] || die "kwok module source not found in the Go module cache"
	kctl apply --server-side -f "$kwok_src/kustomize/crd/bases/kwok.x-k8s.io_stages.yaml" >/dev/null
	wait_for "Stage CRD" 30 kctl wait --for condition=established --timeout=5s crd/stages.kwok.x-k8s.io
	kctl apply --server-side -k "$kwok_src/kustomize/stage/fast" >/dev/null
	# kubesim's stages: a readiness delay and a failure for annotated pods only
	# (stages/kubesim-stages.yaml); every other pod keeps the fast set's behaviour.
	kctl apply --server-side -f "$HERE/stages/kubesim-stages.yaml" >/dev/null
	mkdir -p "$STATE/kwok-home"
	# HOME is isolated so that a user's ~/.kwok/kwok.yaml is not picked up.
	start kwok env HOME="$STATE/kwok-home" "$BIN/kwok" \
		--kubeconfig "$STATE/kwok.kubeconfig" \
		--manage-all-nodes=false \
		--manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
		--enable-crds Stage \
		--cidr "$POD_CIDR" \
		--node-ip 127.0.0.1 \
		--node-lease-duration-seconds 40 \
		--server-address "127.0.0.1:$KWOK_PORT"

	wait_for kube-controller-manager 60 curl -skf "https://127.0.0.1:$KCM_PORT/healthz"
	wait_for kube-scheduler 60 curl -skf "https://127.0.0.1:$SCHEDULER_PORT/healthz"
	wait_for kwok 60 curl -sf "http://127.0.0.1:$KWOK_PORT/healthz"
	# Pods need the namespace's default service account (made by the KCM).
	wait_for "default service account" 60 kctl -n default get serviceaccount default

	if [[ ${KUBESIM_MERGE_KUBECONFIG:-1} != 0 ]]; then
		merge_kubeconfig
	fi
	log "control plane up in $(since "$t0")s (binaries were already built)"
	log "kubeconfig: $KUBECONFIG_OUT  context: $CONTEXT"
	echo "$KUBECONFIG_OUT"
}

merge_kubeconfig() {
	local target=$HOME/.kube/config
	mkdir -p "$HOME/.kube"
	local k=("$BIN/kubectl" --kubeconfig "$target")
	"${k[@]}" config set-cluster "$CONTEXT" --server "$SERVER" \
		--certificate-authority "$PKI/ca.crt" --embed-certs=true >/dev/null
	"${k[@]}" config set-credentials "$CONTEXT-admin" \
		--client-certificate "$PKI/admin.crt" --client-key "$PKI/admin.key" --embed-certs=true >/dev/null
	"${k[@]}" config set-context "$CONTEXT" --cluster "$CONTEXT" --user "$CONTEXT-admin" >/dev/null
	log "context $CONTEXT merged into $target (current context unchanged)"
}

unmerge_kubeconfig() {
	local target=$HOME/.kube/config
	[[ -f $target && -x $BIN/kubectl ]] || return 0
	local k=("$BIN/kubectl" --kubeconfig "$target")
	if "${k[@]}" config get-contexts -o name 2>/dev/null | grep -qx "$CONTEXT"; then
		"${k[@]}" config delete-context "$CONTEXT" >/dev/null 2>&1 || true
		"${k[@]}" config delete-cluster "$CONTEXT" >/dev/null 2>&1 || true
		"${k[@]}" config delete-user "$CONTEXT-admin" >/dev/null 2>&1 || true
		log "context $CONTEXT removed from $target"
	fi
}

cmd_down() {
	local i
	for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do stop "${COMPONENTS[i]}"; done
	if [[ ${KUBESIM_MERGE_KUBECONFIG:-1} != 0 ]]; then unmerge_kubeconfig; fi
	rm -rf "$STATE/etcd" "$STATE/pki" "$STATE/pids" "$STATE/kwok-home" "$STATE"/*.kubeconfig "$KUBECONFIG_OUT"
	log "down (logs of the last run kept in $LOGS)"
}

cmd_status() {
	local c ok=0
	for c in "${COMPONENTS[@]}"; do
		if alive "$c"; then
			printf '%-24s running (pid %s)\n' "$c" "$(pid_of "$c")"
		else
			printf '%-24s stopped\n' "$c"
			ok=1
		fi
	done
	if [[ -f $PKI/ca.crt ]] && curl_api /readyz >/dev/null 2>&1; then
		printf '%-24s %s\n' "/readyz" ok "server" "$SERVER" "kubeconfig" "$KUBECONFIG_OUT" "context" "$CONTEXT"
	else
		printf '%-24s %s\n' "/readyz" "not ready"
		ok=1
	fi
	return $ok
}

cmd_smoke() {
	local t; t=$(now)
	kctl apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-0
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/hostname: kwok-node-0
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    type: kwok
status:
  allocatable: {cpu: "32", memory: 256Gi, pods: "110"}
  capacity: {cpu: "32", memory: 256Gi, pods: "110"}
EOF
	kctl wait --for condition=Ready --timeout=60s node/kwok-node-0 >/dev/null
	log "node kwok-node-0 Ready (+$(since "$t")s)"
	kctl apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: kubesim-smoke
  namespace: default
spec:
  containers:
  - name: app
    image: registry.invalid/fake:latest
    resources:
      requests: {cpu: 100m, memory: 64Mi}
EOF
	kctl -n default wait --for jsonpath='{.status.phase}'=Running --timeout=60s pod/kubesim-smoke >/dev/null
	kctl -n default get pod kubesim-smoke -o wide
	log "pod kubesim-smoke Running on $(kctl -n default get pod kubesim-smoke -o jsonpath='{.spec.nodeName}') (+$(since "$t")s)"
	kctl -n default delete pod kubesim-smoke --wait=true --timeout=60s >/dev/null
	kctl delete node kwok-node-0 --wait=true --timeout=60s >/dev/null
	log "smoke test passed (+$(since "$t")s)"
}

cmd_gomod() { # version, e.g. v1.36.5: pin k8s.io/kubernetes and its staging modules
	local v=${1:?usage: cluster.sh gomod vX.Y.Z}
	local staging_v=v0.${v#v1.}
	local modfile
	modfile=$(cd / && go mod download -json "k8s.io/kubernetes@$v" | awk -F'"' '$2=="GoMod"{print $4}')
	[[ -f $modfile ]] || die "k8s.io/kubernetes@$v not served by the module proxy"
	{
		sed -n '1,/^module /{/^module /d;p}' "$K8S_MOD_DIR/go.mod"
		echo "module kubesim/labs/controlplane/k8s"
		echo
		echo "go $(awk '$1=="go"{print $2; exit}' "$modfile")"
		echo
		echo "require k8s.io/kubernetes $v"
		echo
		echo "replace ("
		sed -n '/^replace (/,/^)/p' "$modfile" | awk -v sv="$staging_v" '$3 ~ /^\.\/staging\// {printf "\t%s => %s %s\n", $1, $1, sv}'
		echo ")"
	} >"$K8S_MOD_DIR/go.mod.new"
	mv "$K8S_MOD_DIR/go.mod.new" "$K8S_MOD_DIR/go.mod"
	rm -f "$K8S_MOD_DIR/go.sum"
	(cd "$K8S_MOD_DIR" && go mod tidy)
	log "k8s/go.mod now pins k8s.io/kubernetes $v with staging modules at $staging_v"
}

case ${1:-} in
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
smoke) cmd_smoke ;;
build) cmd_build ;;
env) echo "export KUBECONFIG=$KUBECONFIG_OUT" ;;
gomod) shift; cmd_gomod "$@" ;;
*)
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
	exit 2
	;;
esac
