package pgtest

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestZZPhases(t *testing.T) {
	for _, major := range Versions() {
		for i := 0; i < 2; i++ {
			t0 := time.Now()
			bins, _ := resolveBinaries(major)
			cred, _ := serverCredential()
			dir, _ := makeClusterDir(cred)
			c := &Cluster{Major: bins.major, Host: "127.0.0.1", DataDir: dir + "/data", BinDir: bins.binDir, ShareDir: bins.shareDir, dir: dir, logPath: dir + "/server.log", cred: cred}
			t1 := time.Now()
			if err := c.initDB(context.Background(), Options{}); err != nil { t.Fatal(err) }
			t2 := time.Now()
			if err := c.startOnFreePort(context.Background(), freePort); err != nil { t.Fatal(err) }
			t3 := time.Now()
			c.Close()
			t4 := time.Now()
			fmt.Printf("pg%d resolve %v initdb %v start %v close %v\n", major, t1.Sub(t0).Round(time.Millisecond), t2.Sub(t1).Round(time.Millisecond), t3.Sub(t2).Round(time.Millisecond), t4.Sub(t3).Round(time.Millisecond))
		}
	}
}
