module github.com/ebill/ebill

go 1.26.0

require github.com/emmansun/gmsm v0.44.0

require (
	golang.org/x/crypto v0.53.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)
