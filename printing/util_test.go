package printing

import "runtime"

var runtimeWindows = runtime.GOOS == "windows"
