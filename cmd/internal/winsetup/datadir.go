// Package winsetup holds what the programs of a station need from the
// Windows installation (windows.md): the one data folder chosen at
// install, its access control list, the sync service's recovery actions,
// and a message box for errors a window-less program must still show.
// On other systems the same functions do what makes sense there.
package winsetup

import (
	"os"
	"path/filepath"
	"runtime"
)

// RegistryKey is where the MSI records the data folder (HKLM, value
// DataDir), so that the desk, the CLI and the service use one folder.
const RegistryKey = `SOFTWARE\ebill`

// DataDir is the station's data folder when neither --data nor EBILL_DATA
// says: the folder recorded at install, else %ProgramData%\ebill on
// Windows; $XDG_DATA_HOME/ebill or ~/.local/share/ebill elsewhere.
func DataDir(getenv func(string) string) string {
	if runtime.GOOS == "windows" {
		if dir := installedDataDir(); dir != "" {
			return dir
		}
		if pd := getenv("ProgramData"); pd != "" {
			return filepath.Join(pd, "ebill")
		}
	}
	if x := getenv("XDG_DATA_HOME"); x != "" {
		return filepath.Join(x, "ebill")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share", "ebill")
	}
	return "ebill-data"
}
