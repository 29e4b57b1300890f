package his

import (
	"log/slog"

	"github.com/ebill/ebill/bill"

	"github.com/ebill/ebill/server"
)

// Package his is the Bosssoft-compatible HIS interface (domain.md §5,
// bosssoft-v3.md): the envelope, its signature and noise, the result
// codes, and each service id mapped onto the ledger's functions in
// package server, its answers shaped as the reference lays them out.

// Adapter answers the HIS interface's services over a ledger.
type Adapter struct {
	*server.Store
	log *slog.Logger
}

// found reads the error of a lookup: true when something was found,
// false without an error when the ledger said it is not there (ENotFound).
func found(err error) (bool, error) {
	switch {
	case err == nil:
		return true, nil
	case bill.ErrorCode(err) == bill.ENotFound:
		return false, nil
	}
	return false, err
}

// New is the HIS adapter of a ledger.
func New(store *server.Store, log *slog.Logger) *Adapter {
	if log == nil {
		log = slog.Default()
	}
	return &Adapter{Store: store, log: log}
}
