        List<List<Long>> found = new ArrayList<>();
        for (int r = 0; r < lst.size(); r++) {
            List<Long> row = lst.get(r);
            for (int c = row.size() - 1; c >= 0; c--) {
                if (row.get(c) == x) found.add(Arrays.asList((long) r, (long) c));
            }
        }
        return found;
    }
}
