// Command etcd is etcd's own server entry point (etcdmain.Main), built from the
// published go.etcd.io/etcd/server/v3 module so that no prebuilt binary is needed.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
