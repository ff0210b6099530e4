module example.com/buildprobe

go 1.19
