//go:build windows

package server

import "golang.org/x/sys/windows"

// diskSpace is the free and total bytes of the disk holding dir.
func diskSpace(dir string) (free, total int64, err error) {
	p, err := windows.UTF16PtrFromString(dir)
	if err != nil {
		return 0, 0, err
	}
	var avail, all, allFree uint64
	if err := windows.GetDiskFreeSpaceEx(p, &avail, &all, &allFree); err != nil {
		return 0, 0, err
	}
	return int64(avail), int64(all), nil
}
