// Command etcd runs the upstream etcd server (go.etcd.io/etcd/server/v3,
// pinned in go.mod to the version kubeadm v1.36 deploys); nothing here but
// the call to its entry point.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
