module github.com/rapidata/raptoken/examples/go

go 1.24.0

require github.com/rapidata/raptoken-go v0.0.0

require golang.org/x/oauth2 v0.34.0 // indirect

// The binding lives in this repository; point the module at its local copy (which links
// ../../target/release/libraptoken.a).
replace github.com/rapidata/raptoken-go => ../../bindings/go
