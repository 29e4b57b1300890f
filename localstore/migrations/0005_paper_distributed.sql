-- The paper the server distributed to this station's point (票源管理):
-- replaced whole at each change. Once the server has sent it (the setting
-- paper_distributed), the station takes in only these numbers.
CREATE TABLE paper_distributed (
    paper_code TEXT    NOT NULL,
    start_no   INTEGER NOT NULL,
    end_no     INTEGER NOT NULL,
    PRIMARY KEY (paper_code, start_no)
) STRICT;
