package bench

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgcollector/pgcollector/bench/fleetsim"
	"github.com/pgcollector/pgcollector/internal/secret"
)

// SimUpstreams are the fleet's clusters as the simulator's recording
// sources, logged in as the monitoring role.
func SimUpstreams(f *Fleet) []fleetsim.Upstream {
	var ups []fleetsim.Upstream
	for _, c := range f.Clusters {
		ups = append(ups, fleetsim.Upstream{Major: c.Major, Host: c.Host, Port: c.Port, User: MonitorRole, Password: MonitorPassword})
	}
	return ups
}

// RegisterSim stores n connection rows sim-00001 … on the simulator, each
// its own simulated server (the user name selects it). The password is
// encrypted once and the ciphertext reused (see Register).
func RegisterSim(ctx context.Context, pool *pgxpool.Pool, secretFile, host string, port, n int) error {
	box, err := secret.ReadFile(secretFile)
	if err != nil {
		return err
	}
	enc, err := box.Encrypt(MonitorPassword)
	if err != nil {
		return err
	}
	_, err = pool.Exec(ctx, `
INSERT INTO public.connections (name, host, port, database_name, username, password_encrypted, sslmode, owner_username)
SELECT 'sim-' || lpad(i::text, 5, '0'), $1, $2, 'postgres', 'sim-' || lpad(i::text, 5, '0'), $3, 'disable', 'bench'
FROM generate_series(1, $4::int) AS i`, host, port, enc, n)
	if err != nil {
		return fmt.Errorf("register %d simulated servers: %w", n, err)
	}
	return nil
}
