package replicast

// The only file with #cgo lines. lib/<os>-<arch>/ holds only libreplicast.a (scripts/build-ffi.sh
// puts it there; git-ignored); the libraries after it are the ones `rustc --print
// native-static-libs` reports (TestNativeStaticLibs keeps them in sync).

/*
#cgo CFLAGS: -I${SRCDIR}/../../include
#cgo linux,amd64 LDFLAGS: -L${SRCDIR}/lib/linux-amd64 -lreplicast -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
#cgo linux,arm64 LDFLAGS: -L${SRCDIR}/lib/linux-arm64 -lreplicast -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
#include "replicast.h"
*/
import "C"

// ldflags is the list above, for TestNativeStaticLibs.
const ldflags = "-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc"

func init() {
	// The ABI marker: linking against a library of another ABI generation fails here.
	C.replicast_abi_v1()
}

// Version is the version of the linked C library.
func Version() string {
	return C.GoString(C.replicast_version())
}
