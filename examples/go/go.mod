module github.com/replicast/replicast/examples/go

go 1.24

require github.com/replicast/replicast/ffi/go v0.0.0

replace github.com/replicast/replicast/ffi/go => ../../ffi/go
