-- 规划审批表：数据中心的变更捕获（hub/src/connectors/planning_cdc）从这张表读取。
-- The planning department's approvals table as the hub's change capture reads it. Apply it
-- in the planning database (the tests and the demo do); a department whose table already
-- exists needs only the column names and the REPLICA IDENTITY below. Columns the hub does
-- not know (updated_at, or any the department adds) are ignored.
--
-- No CHECK constraints on purpose: whatever the department's system writes must reach
-- the hub, and a row the hub cannot take is quarantined there with the column and the
-- problem, where the operators see it.

CREATE TABLE IF NOT EXISTS planning_approval (
    planning_permit_no      text PRIMARY KEY,   -- 工程规划许可证号
    project_code            text NOT NULL,      -- 项目代码 2019-320105-47-01-123456
    project_name            text NOT NULL,      -- 项目名称
    builder                 text NOT NULL,      -- 建设单位
    builder_uscc            text NOT NULL,      -- 建设单位统一社会信用代码
    district_code           text NOT NULL,      -- 行政区划代码 320115
    contact_phone           text,               -- 联系电话
    approved_on             date NOT NULL,      -- 批准日期
    residential_area_m2     numeric(12,2) NOT NULL DEFAULT 0,  -- 住宅面积（㎡）
    non_residential_area_m2 numeric(12,2) NOT NULL DEFAULT 0,  -- 非住宅面积（㎡）
    civil_defence_area_m2   numeric(12,2) NOT NULL DEFAULT 0,  -- 人防面积（㎡）
    infra_exemption_yuan    numeric(14,2),      -- 配套费减免金额（元），与减免依据同填或同空
    infra_exemption_basis   text,               -- 减免依据，如 2019年第76号公告
    updated_at              timestamptz NOT NULL DEFAULT now()
);

-- FULL: an UPDATE and a DELETE carry the whole old row, so a deleted approval is withdrawn
-- with its project code, and a long value PostgreSQL left out of an UPDATE (unchanged
-- TOAST) is still known. The rows are small and change rarely; the extra WAL is slight.
ALTER TABLE planning_approval REPLICA IDENTITY FULL;
