// database/sql with lib/pq (Debian's golang-github-lib-pq-dev) against a real PostgreSQL
// over its unix socket: a pool, a transaction with prepared inserts, a query. Built
// cgo-free and static in GOPATH mode from Debian's packaged source.
package main

import (
	"database/sql"
	"fmt"
	"os"

	_ "github.com/lib/pq"
)

func main() {
	dsn := fmt.Sprintf("host=%s port=%s user=postgres dbname=postgres sslmode=disable", os.Args[1], os.Args[2])
	db, err := sql.Open("postgres", dsn)
	check(err)
	defer db.Close()
	db.SetMaxOpenConns(2)
	tx, err := db.Begin()
	check(err)
	_, err = tx.Exec("CREATE TEMP TABLE items (id serial PRIMARY KEY, name text)")
	check(err)
	stmt, err := tx.Prepare("INSERT INTO items (name) VALUES ($1)")
	check(err)
	for i := 0; i < 20; i++ {
		_, err = stmt.Exec(fmt.Sprintf("n%d", i))
		check(err)
	}
	var n int
	check(tx.QueryRow("SELECT count(*) FROM items").Scan(&n))
	check(tx.Commit())
	if n != 20 {
		panic(n)
	}
	fmt.Println("CORPUS OK")
}

func check(err error) {
	if err != nil {
		panic(err)
	}
}
