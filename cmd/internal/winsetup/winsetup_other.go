//go:build !windows

package winsetup

import (
	"fmt"
	"os"

	"github.com/ebill/ebill/internal/private"
)

func installedDataDir() string { return "" }

// SecureDataDir makes the data folder private to the account that runs
// the programs (mode 0700); Windows sets an ACL instead.
func SecureDataDir(dir string) error { return private.Dir(dir) }

// SetServiceRecovery is Windows only: systemd's unit says Restart=.
func SetServiceRecovery(name string) error { return nil }

// MessageBox shows an error where a user will see it: without a window
// system, standard error.
func MessageBox(title, text string) { fmt.Fprintf(os.Stderr, "%s：%s\n", title, text) }
