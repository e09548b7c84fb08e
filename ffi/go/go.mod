module github.com/replicast/replicast/ffi/go

go 1.24
