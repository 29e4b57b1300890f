package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/ebill/ebill/bill"
	"github.com/ebill/ebill/cmd/internal/cli"
	"github.com/ebill/ebill/server"
	"github.com/ebill/ebill/server/his"
)

// cmdHISApp registers, disables and lists the callers of the medical API
// (HIS apps), and makes the joint-debugging call.
func cmdHISApp(ctx context.Context, a *app, args []string) error {
	return sub(a, "his-app", args, map[string]func([]string) error{
		"add": func(args []string) error {
			fs := a.flags("his-app add", "--appid 应用账号 --key 密钥 --points 开票点1,开票点2 [--name 名称] [--allow-from IP或网段,…] [--sign-order appid,data,noise,key,version]")
			appid := fs.String("appid", "", "应用账号（HIS 厂商配置的 appid）")
			key := fs.String("key", "", "签名密钥，至少16个字符；也可用环境变量 EBILL_HIS_KEY")
			points := fs.String("points", "", "该应用可开票的开票点（服务器开票点），逗号分隔")
			name := fs.String("name", "", "名称，例如 某某HIS")
			order := fs.String("sign-order", strings.Join(server.DefaultSignOrder, ","), "签名串的字段顺序")
			allow := fs.String("allow-from", "", "只接受来自这些地址的调用：IP 或网段，逗号分隔，例如 192.168.1.20,10.8.0.0/16；不填则不限")
			if _, err := a.parse(fs, args, false); err != nil {
				return err
			}
			if *key == "" {
				*key = os.Getenv("EBILL_HIS_KEY")
			}
			if err := cli.Required("appid", *appid, "key", *key, "points", *points); err != nil {
				return err
			}
			app := server.HISApp{AppID: *appid, Name: *name, Points: splitList(*points), SignOrder: splitList(*order), AllowFrom: splitList(*allow)}
			return a.withStore(ctx, func(s *server.Store) error {
				if err := s.AddHISApp(ctx, app, *key); err != nil {
					return err
				}
				return a.Report(map[string]any{"appid": app.AppID, "points": app.Points},
					"已登记应用 %s，可为开票点 %s 开票。接口地址：https://服务器地址%s{服务名}\n", app.AppID, strings.Join(app.Points, "、"), his.MedicalPathPrefix)
			})
		},
		"disable": func(args []string) error {
			fs := a.flags("his-app disable", "应用账号")
			appid, err := a.parse(fs, args, true)
			if err != nil {
				return err
			}
			return a.withStore(ctx, func(s *server.Store) error {
				if err := s.DisableHISApp(ctx, appid); err != nil {
					return err
				}
				return a.Report(map[string]any{"appid": appid, "disabled": true}, "应用 %s 已停用，其调用将被拒绝（E1002）。\n", appid)
			})
		},
		"call": func(args []string) error { return cmdHISCall(ctx, a, args) },
		"list": func(args []string) error {
			fs := a.flags("his-app list", "")
			if _, err := a.parse(fs, args, false); err != nil {
				return err
			}
			return a.withStore(ctx, func(s *server.Store) error {
				apps, err := s.HISApps(ctx)
				if err != nil {
					return err
				}
				if a.JSON {
					a.PrintJSON(apps)
					return nil
				}
				for _, ap := range apps {
					state := ""
					if ap.Disabled {
						state = "（已停用）"
					}
					from := "不限"
					if len(ap.AllowFrom) > 0 {
						from = strings.Join(ap.AllowFrom, ",")
					}
					a.Printf("%s  %s  开票点：%s  来源地址：%s  签名顺序：%s%s\n", ap.AppID, ap.Name, strings.Join(ap.Points, ","), from,
						strings.Join(ap.SignOrder, ","), state)
				}
				if len(apps) == 0 {
					a.Printf("尚未登记任何应用：ebill-server his-app add --appid … --key … --points …\n")
				}
				return nil
			})
		},
	})
}

// cmdHISCall is the joint-debugging tool: one call of the medical API as
// the HIS app would make it, with the answer decoded.
func cmdHISCall(ctx context.Context, a *app, args []string) error {
	fs := a.flags("his-app call", "--url https://服务器:8443 --appid 应用账号 --key 密钥 --service 服务名 --file 业务JSON文件 [--set 字段=值]… [--fingerprint 证书指纹]")
	url := fs.String("url", "", "服务器地址，例如 https://192.168.1.10:8443")
	appid := fs.String("appid", "", "应用账号")
	key := fs.String("key", "", "签名密钥；也可用环境变量 EBILL_HIS_KEY")
	service := fs.String("service", "", "服务名，例如 invoiceEBillOutpatient、getEBillByBusNo")
	data := fs.String("file", "", "业务 JSON 文件（- 为标准输入）；省略则为 {}")
	fingerprint := fs.String("fingerprint", "", "服务器证书指纹（自签名证书时），见 ebill-server tls fingerprint")
	order := fs.String("sign-order", strings.Join(server.DefaultSignOrder, ","), "签名串的字段顺序")
	var sets []string
	fs.Func("set", "改写业务 JSON 的一个顶层字段，例如 --set placeCode=H01（可重复）", func(v string) error {
		if !strings.Contains(v, "=") {
			return fmt.Errorf("应为 字段=值，收到 %q", v)
		}
		sets = append(sets, v)
		return nil
	})
	if _, err := a.parse(fs, args, false); err != nil {
		return err
	}
	if *key == "" {
		*key = os.Getenv("EBILL_HIS_KEY")
	}
	if err := cli.Required("url", *url, "appid", *appid, "key", *key, "service", *service); err != nil {
		return err
	}
	business := []byte("{}")
	switch *data {
	case "":
	case "-":
		b, err := io.ReadAll(os.Stdin)
		if err != nil {
			return err
		}
		business = b
	default:
		b, err := os.ReadFile(*data)
		if err != nil {
			return bill.Errorf(bill.EInvalid, "无法读取业务 JSON 文件 %s：%v", *data, err)
		}
		business = b
	}
	if len(sets) > 0 {
		var m map[string]any
		dec := json.NewDecoder(bytes.NewReader(business))
		dec.UseNumber() // amounts and long numbers go out as written
		if err := dec.Decode(&m); err != nil {
			return bill.Errorf(bill.EInvalid, "业务 JSON 文件 %s 不是 JSON 对象：%v", *data, err)
		}
		for _, kv := range sets {
			k, v, _ := strings.Cut(kv, "=")
			m[k] = v
		}
		b, err := json.Marshal(m)
		if err != nil {
			return err
		}
		business = b
	}
	c := his.NewMedicalClient(*url, *appid, *key, *fingerprint)
	c.SignOrder = splitList(*order)
	ans, err := c.Call(ctx, *service, business)
	if err != nil {
		return err
	}
	msg := any(string(ans.Message))
	if json.Valid(ans.Message) {
		msg = json.RawMessage(ans.Message)
	}
	if a.JSON {
		a.PrintJSON(map[string]any{"service": *service, "result": ans.Result, "signed": ans.Signed, "message": msg})
	} else {
		sig := "响应签名正确"
		switch {
		case ans.Bare:
			sig = "响应未签名：服务器不认识这个 appid，或请求格式不对"
		case !ans.Signed:
			sig = "响应签名不符（密钥或签名顺序与服务器登记的不一致，或响应被改动）"
		}
		a.Printf("%s → %s（%s）\n%s\n", *service, ans.Result, sig, readableJSON(ans.Message))
	}
	if ans.Result != his.ResultOK {
		return cli.Reported{Err: bill.Errorf(bill.EInvalid, "接口返回 %s：%s", ans.Result, string(ans.Message))}
	}
	return nil
}

// readableJSON indents a JSON document as it came (field order and number
// spelling kept), writes & for its \u0026 and shortens a QR code's Base64;
// anything else (a failure's Chinese text) is returned as it is.
func readableJSON(raw []byte) string {
	var b bytes.Buffer
	if json.Indent(&b, raw, "", "  ") != nil {
		return string(raw)
	}
	out := qrBase64.ReplaceAllString(b.String(), `"$1": "$2…（PNG 图片的 Base64，此处省略）"`)
	out = fileBase64.ReplaceAllString(out, `"$1": "$2…（文件内容的 Base64，此处省略）"`)
	return strings.ReplaceAll(out, `\u0026`, "&")
}

var fileBase64 = regexp.MustCompile(`"(fileData|pdfData)": "([A-Za-z0-9+/]{24})[A-Za-z0-9+/=]*"`)

var qrBase64 = regexp.MustCompile(`"(billQRCode|scarletBillQRCode|pictureData)": "([A-Za-z0-9+/]{24})[A-Za-z0-9+/=]*"`)
