// Builds SeaweedFS's `weed` (Apache-2.0) for tmiDB's embedded S3 store: `go install` of the module itself
// is refused because its go.mod has `replace` directives, so this module requires it and repeats them.
module tmidb.local/weed

go 1.26.6

require github.com/seaweedfs/seaweedfs v0.0.0-20261109003541-7506e5f91cd6

replace github.com/tyler-smith/go-bip39 => github.com/cosmos/go-bip39 v1.0.0
