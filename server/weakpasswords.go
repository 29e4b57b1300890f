package server

import (
	"strings"
	"sync"
)

// The passwords that pass the complexity rules and are still guessed
// first: the most used passwords of public leaks, the Chinese favourites,
// and what people build from a word and a number (Admin@123, Xiamen2026!).
// Compared without regard to case.

var weakTop = strings.Fields(`
123456 password 12345678 qwerty 123456789 12345 1234 111111 1234567 dragon 123123 baseball abc123 football monkey
letmein 696969 shadow master 666666 qwertyuiop 123321 mustang 1234567890 michael 654321 superman 1qaz2wsx 7777777
121212 000000 qazwsx 123qwe killer trustno1 jordan jennifer zxcvbnm asdfgh hunter buster soccer harley batman andrew
tigger sunshine iloveyou charlie robert thomas hockey ranger daniel starwars 112233 george computer michelle jessica
pepper 11111111 131313 freedom 777777 maggie 159753 aaaaaa aaaaaaaa ginger princess joshua cheese amanda summer ashley
nicole chelsea matthew access yankees 987654321 dallas austin thunder taylor matrix 88888888 66666666 147258369
passw0rd p@ssw0rd p@ssword pa$$w0rd changeme default secret qwe123 q1w2e3r4 q1w2e3r4t5 1q2w3e4r 1q2w3e4r5t
zaq12wsx zaq1xsw2 asdf1234 qwer1234 abcd1234 1qaz@wsx 1qaz!qaz !qaz2wsx !qaz@wsx 1qaz2wsx3edc qazwsxedc qweasdzxc
asdfghjkl zxcvbnm123 qwertyui 1qazxsw2 q1w2e3 a1b2c3d4 a1s2d3f4 aa123456 a123456 a12345678 a123456789 123456a 123456aa
123456abc abc123456 abc12345 asd123 asd123456 zxc123 zxc123456 qaz123 qaz123456 qq123456 qq5201314 5201314 1314520
520520 woaini woaini1314 woaini520 aini1314 iloveyou1314 520131400 wodemima mima123 mima1234 huawei@123 huawei123
admin123 admin@123 admin888 admin@1234 administrator root123 root@123 test123 test@123 guest123 system123 sa123456
`)

var weakWords = strings.Fields(`
password passwd admin administrator root test guest user system manager super welcome qwerty abc abcd love iloveyou
woaini china huawei hospital yiyuan yisheng hushi xiamen fujian haicang caiwu piaoju shouyin shoufei ebill his
zhang wang li liu chen yang huang zhao zhou wu xu sun ma zhu hu lin
`)

var weakSuffixes = strings.Fields(`
1 12 123 1234 12345 123456 888 666 520 1314 2023 2024 2025 2026 2027 @123 @1234 @12345 @123456 @2024 @2025 @2026
@2027 ! !@# #123 _123 .123 123! 123. 123@ 1234! @1 1! 2026! 2025! 2024! @888 @666 @520 #1234 !123 !1234
`)

var (
	weakOnce sync.Once
	weakSet  map[string]bool
)

func weakPasswords() map[string]bool {
	weakOnce.Do(func() {
		weakSet = map[string]bool{}
		for _, p := range weakTop {
			weakSet[p] = true
		}
		for _, w := range weakWords {
			weakSet[w] = true
			for _, s := range weakSuffixes {
				weakSet[w+s] = true
			}
		}
		// One character repeated, and runs of digits or letters.
		for _, c := range "0123456789abcdefghijklmnopqrstuvwxyz!@#" {
			for n := 6; n <= 16; n++ {
				weakSet[strings.Repeat(string(c), n)] = true
			}
		}
		const digits, letters = "0123456789012345", "abcdefghijklmnopqrstuvwxyz"
		for n := 6; n <= 12; n++ {
			for i := 0; i+n <= len(digits); i++ {
				weakSet[digits[i:i+n]] = true
			}
			for i := 0; i+n <= len(letters); i++ {
				weakSet[letters[i:i+n]] = true
			}
		}
	})
	return weakSet
}

// IsCommonPassword reports whether a password is on the list of common
// passwords (case does not matter).
func IsCommonPassword(p string) bool { return weakPasswords()[strings.ToLower(p)] }

// CommonPasswords is how many passwords the list holds.
func CommonPasswords() int { return len(weakPasswords()) }
